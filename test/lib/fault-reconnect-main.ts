import { pino } from 'pino'
import { fromHex } from '@shoal/protocol'
import type { TrackerClient as TrackerClientClass, TrackerClientInit } from '../../peer/src/tracker/tracker-client.js'
import { Rng } from './fault-fuzz.js'

/** What the reconnect child is told, as one JSON argument. */
export interface ReconnectOptions {
  url: string
  seed: number
  clients: number
  content: { id: string; chunkCount: number }
  /** The peer's backoff: first delay cap and largest cap, ms (its defaults are 500 and 30,000). */
  backoff: { initialMs: number; maxMs: number }
  /** Give up waiting for everyone to come back after this long. */
  deadlineMs: number
}

/** When each client first lost the tracker and when it registered again (ms since the epoch). */
export interface ReconnectReport {
  type: 'reconnect-report'
  downAt: number[]
  backAt: (number | null)[]
  /**
   * When the backoff scheduled the attempt that succeeded (the time the client logged the
   * retry plus the delay it drew): the spread the backoff itself makes, whatever the
   * scheduling of this process added.
   */
  plannedAt: (number | null)[]
}

// The peer package exports no tracker client; it is loaded from beside the package's entry.
const { TrackerClient } = (await import(new URL('./tracker/tracker-client.js', import.meta.resolve('@shoal/peer')).href)) as { TrackerClient: typeof TrackerClientClass }

const options = JSON.parse(process.argv[2]) as ReconnectOptions
const rng = new Rng(options.seed)
// The client logs every retry with the delay it drew; that is read back here.
const plannedAttempt = new Map<number, number>()
const log = pino({ level: 'info' }, {
  write(line: string): void {
    const entry = JSON.parse(line) as { client: number; msg: string; retryMs?: number; time: number }
    if (entry.msg === 'tracker connection lost' && entry.retryMs !== undefined) plannedAttempt.set(entry.client, entry.time + entry.retryMs)
  },
})
const content = { content: fromHex(options.content.id, 32)!, chunkCount: options.content.chunkCount, bitfield: new Uint8Array(Math.ceil(options.content.chunkCount / 8)).fill(0) }

interface Tracked {
  client: TrackerClientClass
  registeredOnce: boolean
  downAt: number
  backAt: number | null
  plannedAt: number | null
}

let up = 0
let back = 0
let report: () => void = () => undefined
const everyoneBack = new Promise<void>((resolve) => (report = resolve))
let lost: () => void = () => undefined
const firstLoss = new Promise<void>((resolve) => (lost = resolve))

const tracked: Tracked[] = Array.from({ length: options.clients }, (_, index) => {
  const init: TrackerClientInit = {
    url: options.url, peerId: rng.bytes(16), key: rng.bytes(16), port: 1 + rng.int(65535),
    contents: () => [content], manifests: () => [], load: () => 0, backoff: options.backoff,
    requestTimeoutMs: 10_000, haveDelayMs: 50, log: log.child({ client: index }),
  }
  const entry: Tracked = { client: new TrackerClient(init), registeredOnce: false, downAt: 0, backAt: null, plannedAt: null }
  entry.client.on('registered', () => {
    if (!entry.registeredOnce) {
      entry.registeredOnce = true
      if (++up === options.clients) process.stdout.write(`${JSON.stringify({ type: 'all-registered' })}\n`)
    } else if (entry.downAt > 0 && entry.backAt === null) {
      entry.backAt = Date.now()
      entry.plannedAt = plannedAttempt.get(index) ?? null
      if (++back === options.clients) report()
    }
  })
  entry.client.on('down', () => {
    if (!entry.registeredOnce || entry.downAt > 0) return
    entry.downAt = Date.now()
    lost()
  })
  entry.client.on('stopped', (why) => process.stdout.write(`${JSON.stringify({ type: 'stopped', why })}\n`))
  return entry
})
// Started a few at a time, as peers arriving over a while would be.
for (let i = 0; i < tracked.length; i += 50) {
  for (const entry of tracked.slice(i, i + 50)) entry.client.start()
  await new Promise((resolve) => setTimeout(resolve, 20))
}
// Reports once every client is back after losing the tracker, or at the deadline after the first loss.
await firstLoss
await Promise.race([everyoneBack, new Promise((resolve) => setTimeout(resolve, options.deadlineMs))])
process.stdout.write(`${JSON.stringify({ type: 'reconnect-report', downAt: tracked.map((e) => e.downAt), backAt: tracked.map((e) => e.backAt), plannedAt: tracked.map((e) => e.plannedAt) } satisfies ReconnectReport)}\n`)
