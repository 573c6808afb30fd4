import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { MAX_PEER_FRAME, peerCodec, PROTOCOL_VERSION } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import { FramedSocket } from '@shoal/peer'

export type Transport = 'tcp' | 'ws'

export interface TransportResult {
  transport: Transport
  bytes: number
  seconds: number
  mbPerSec: number
  /** CPU seconds per GiB moved: client, server. */
  clientCpuPerGiB: number
  serverCpuPerGiB: number
}

const CONTENT = new Uint8Array(32)
const PIECE = 1024 * 1024

/** Pulls `total` bytes of 1 MiB pieces with `depth` requests in flight from a server process. */
export async function measureTransport(transport: Transport, total: number, depth = 8): Promise<TransportResult> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./transport-server.js', import.meta.url)), transport, String(PIECE)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const { port } = JSON.parse((await lines.next()).value as string) as { port: number }
  const client = transport === 'tcp' ? await tcpClient(port) : await wsClient(port)
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  let sent = 0
  let received = 0
  const pieces = Math.ceil(total / PIECE)
  await new Promise<void>((resolve, reject) => {
    const next = (): void => {
      client.send({ type: 'request', id: sent, content: CONTENT, chunk: sent % 1024, offset: 0, length: PIECE })
      sent++
    }
    client.onMessage = (msg) => {
      if (msg.type !== 'piece' || msg.data.length !== PIECE) return reject(new Error(`unexpected ${msg.type}`))
      if (++received === pieces) return resolve()
      if (sent < pieces) next()
    }
    for (let i = 0; i < Math.min(depth, pieces); i++) next()
  })
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  client.close()
  child.stdin!.end()
  const { cpuMs } = JSON.parse((await lines.next()).value as string) as { cpuMs: number }
  await once(child, 'exit')
  const gib = (pieces * PIECE) / 2 ** 30
  return {
    transport, bytes: pieces * PIECE, seconds, mbPerSec: (pieces * PIECE) / seconds / 1e6,
    clientCpuPerGiB: (cpu.user + cpu.system) / 1e6 / gib, serverCpuPerGiB: cpuMs / 1000 / gib,
  }
}

interface Client {
  send(msg: PeerMessage): void
  onMessage: (msg: PeerMessage) => void
  close(): void
}

async function tcpClient(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const framed = new FramedSocket(socket)
  const client: Client = { send: (m) => framed.send(m), onMessage: () => {}, close: () => framed.destroy() }
  framed.on('message', (m) => client.onMessage(m))
  framed.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: new Uint8Array(16), content: CONTENT })
  return client
}

async function wsClient(port: number): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, maxPayload: MAX_PEER_FRAME })
  await once(ws, 'open')
  const client: Client = { send: (m) => ws.send(peerCodec.encode(m)), onMessage: () => {}, close: () => ws.terminate() }
  ws.on('message', (data) => client.onMessage(peerCodec.decode(data as Buffer)))
  return client
}
