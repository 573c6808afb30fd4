import { readFile } from 'node:fs/promises'
import { fromHex } from '@shoal/protocol'
import { Rng, sampleManifests } from './fault-fuzz.js'
import type { FuzzContent } from './fault-fuzz.js'
import { FuzzTally } from './fault-fuzz-tally.js'
import { fuzzTrackerConnection } from './fault-fuzz-tracker.js'
import { WireFuzzConnection } from './fault-fuzz-wire.js'

/** What the fuzz child is told, as one JSON argument. */
export interface FuzzOptions {
  target: 'tracker' | 'wire'
  seed: number
  /** Frames to send in all. */
  frames: number
  /** Connections open at once. */
  concurrency: number
  /** Frames per connection at most (a connection may be closed sooner). */
  perConnection: number
  /** tracker: its URL and the contents (hex id, chunk count) valid frames name. */
  url?: string
  contents?: { id: string; chunkCount: number }[]
  /** wire: the peer's address, its content and the content's file (to check pieces against). */
  host?: string
  port?: number
  content?: { id: string; chunkCount: number; chunkSize: number }
  file?: string
}

const PROGRESS_MS = 2000
/** Past this many violations the run stops: the report already says enough. */
const MAX_VIOLATIONS = 200

const options = JSON.parse(process.argv[2]) as FuzzOptions
const tally = new FuzzTally()
const started = performance.now()
const connect = await connector(options)

let remaining = options.frames
let connections = 0
const progress = setInterval(() => print({ type: 'fuzz-progress', frames: tally.frames, violations: tally.violationCount }), PROGRESS_MS)
await Promise.all(Array.from({ length: options.concurrency }, async () => {
  while (remaining > 0 && tally.violationCount < MAX_VIOLATIONS) {
    // Each connection has its own generator, so a seed and a connection number replay it.
    const rng = new Rng((options.seed ^ Math.imul(++connections, 0x9e3779b1)) >>> 0)
    const quota = Math.min(remaining, 1 + rng.int(options.perConnection))
    remaining -= quota
    tally.connections++
    const sent = await connect(rng, quota)
    // A connection closed early hands its unsent frames back.
    remaining += quota - sent
  }
}))
clearInterval(progress)
const elapsedMs = performance.now() - started
print({ type: 'fuzz-report', ...tally, elapsedMs, framesPerSecond: Math.round(tally.frames / (elapsedMs / 1000)) })

async function connector(o: FuzzOptions): Promise<(rng: Rng, quota: number) => Promise<number>> {
  if (o.target === 'tracker') {
    const contents: FuzzContent[] = o.contents!.map((c) => ({ id: fromHex(c.id, 32)!, chunkCount: c.chunkCount }))
    const target = { url: o.url!, contents, manifests: sampleManifests(new Rng(o.seed), 16) }
    return (rng, quota) => fuzzTrackerConnection(rng, target, quota, tally)
  }
  const content = { ...o.content!, id: fromHex(o.content!.id, 32)! }
  const target = { host: o.host!, port: o.port!, content, data: await readFile(o.file!) }
  return (rng, quota) => new WireFuzzConnection(rng, target, tally).run(quota)
}

function print(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`)
}
