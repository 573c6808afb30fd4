import { once } from 'node:events'
import { connect } from 'node:net'
import WebSocket from 'ws'
import { MAX_PEER_FRAME, peerCodec, PROTOCOL_VERSION } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import { FramedSocket } from '@shoal/peer'
import { ChildServer } from './child-server.js'
import { cpuSeconds } from './cpu.js'

export type Transport = 'tcp' | 'ws'

export interface TransportResult {
  transport: Transport
  mbPerSec: number
  /** CPU seconds per GiB moved, receiving and sending side. */
  clientCpuPerGiB: number
  serverCpuPerGiB: number
}

const CONTENT = new Uint8Array(32)
const PIECE = 1024 * 1024

interface Client {
  send(msg: PeerMessage): void
  onMessage: (msg: PeerMessage) => void
  close(): void
}

/**
 * Pulls `total` bytes as 1 MiB pieces, `depth` requests in flight, from a server process
 * speaking the peer wire over one transport. Both sides decode every frame with
 * peerCodec, as peers do.
 */
export async function measureTransport(transport: Transport, total: number, depth = 8): Promise<TransportResult> {
  const server = await ChildServer.start(transport, String(PIECE))
  const client = transport === 'tcp' ? await tcpClient(server.port) : await wsClient(server.port)
  const pieces = Math.ceil(total / PIECE)
  const cpu0 = cpuSeconds()
  const t0 = performance.now()
  await new Promise<void>((resolve, reject) => {
    let sent = 0
    let received = 0
    const next = (): void => client.send({ type: 'request', id: ++sent, content: CONTENT, chunk: sent % 1024, offset: 0, length: PIECE })
    client.onMessage = (msg) => {
      if (msg.type !== 'piece' || msg.data.length !== PIECE) return reject(new Error(`unexpected ${msg.type}`))
      if (++received === pieces) return resolve()
      if (sent < pieces) next()
    }
    for (let i = 0; i < Math.min(depth, pieces); i++) next()
  })
  const seconds = (performance.now() - t0) / 1000
  const clientCpu = cpuSeconds() - cpu0
  client.close()
  const serverCpu = await server.stop()
  const gib = (pieces * PIECE) / 2 ** 30
  return { transport, mbPerSec: (pieces * PIECE) / seconds / 1e6, clientCpuPerGiB: clientCpu / gib, serverCpuPerGiB: serverCpu / gib }
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
