/**
 * Child process that plays many peers against one tracker: it connects and registers
 * them all, then drives closed loops on command and reports what it measured. It runs in
 * its own process so its CPU never counts against the tracker's.
 */
import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import WebSocket from 'ws'
import { AnnounceConnection } from './announce-connection.js'
import type { ClosedLoopConnection } from './closed-loop-connection.js'
import type { LoadReport, LoadSettings } from './ipc.js'
import { serve } from './ipc.js'
import { LoadCounters } from './load-counters.js'
import { ShoalConnection } from './shoal-connection.js'
import { TickCork } from './tick-cork.js'

/** Connections opened at once during setup, well under the listen backlog. */
const CONNECT_CONCURRENCY = 200


const counters = new LoadCounters()
let markedAt = performance.now()
let markedCpu = process.cpuUsage()
const sockets: WebSocket[] = []
const connections: ClosedLoopConnection[] = []

function randomBitfield(chunks: number): Uint8Array {
  const bytes = new Uint8Array(randomBytes((chunks + 7) >>> 3))
  const spare = bytes.length * 8 - chunks
  if (spare > 0) bytes[bytes.length - 1] &= 0xff << spare
  return bytes
}

async function open(settings: LoadSettings, index: number, contentIds: Buffer[]): Promise<ClosedLoopConnection> {
  const localAddress = `127.0.0.${2 + (index % settings.sourceAddresses)}`
  const ws = new WebSocket(settings.url, { perMessageDeflate: false, localAddress })
  const socket = await new Promise<Socket>((resolve, reject) => {
    ws.once('upgrade', (res) => ws.once('open', () => resolve(res.socket)))
    ws.once('error', reject)
  })
  ws.removeAllListeners('error')
  ws.on('error', () => {})
  sockets.push(ws)
  const content = contentIds[index % settings.contents]
  const cork = new TickCork(socket)
  const connection = settings.implementation !== 'bittorrent-tracker'
    ? new ShoalConnection(ws, content, randomBitfield(settings.chunks), settings.chunks, counters, cork, settings.havesPerFind, settings.chunkLists)
    : new AnnounceConnection(ws, content.subarray(0, 20), counters, cork)
  await connection.register()
  return connection
}

async function connectAll(settings: LoadSettings): Promise<{ seconds: number }> {
  const started = performance.now()
  const contentIds = Array.from({ length: settings.contents }, () => randomBytes(32))
  let next = 0
  const worker = async () => {
    while (next < settings.connections) connections.push(await open(settings, next++, contentIds))
  }
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, settings.connections) }, worker))
  return { seconds: (performance.now() - started) / 1000 }
}

/** Counters are shared by all connections; a mark starts them afresh. */
function mark(): void {
  counters.reset()
  markedAt = performance.now()
  markedCpu = process.cpuUsage()
}

function report(): LoadReport {
  const cpu = process.cpuUsage(markedCpu)
  return {
    seconds: (performance.now() - markedAt) / 1000,
    sent: counters.sent, replies: counters.replies, errors: counters.errors, replyBytes: counters.replyBytes,
    latency: counters.latency.counts, cpu,
  }
}

let settings: LoadSettings | undefined
serve(async (message) => {
  switch (message.cmd) {
    case 'connect':
      settings = message.settings as LoadSettings
      return connectAll(settings)
    case 'run':
      mark()
      for (const c of connections) c.start((settings as LoadSettings).inFlight)
      return {}
    case 'mark':
      mark()
      return {}
    case 'report': {
      const measured = report()
      for (const c of connections) c.stop()
      return measured
    }
    case 'close':
      for (const ws of sockets) ws.terminate()
      setImmediate(() => process.exit(0))
      return {}
    default:
      throw new Error(`unknown command ${message.cmd}`)
  }
})
