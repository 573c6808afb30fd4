import t from 'tap'
import { fuzzTracker, fuzzWire } from '../lib/fault-fuzz-suite.js'
import { MiB } from '../lib/fault-process.js'

// The regular suite fuzzes with a share of the frames; the soak suite sends the full 200,000 each.
const frames = Number(process.env.SHOAL_FUZZ_FRAMES ?? 30_000)
const seed = Number(process.env.SHOAL_FUZZ_SEED ?? 5)

t.test('tracker WebSocket under fuzz', (t) => fuzzTracker(t, { frames, seed, maxRssGrowth: 150 * MiB, timeoutMs: 120_000 }))

t.test('peer wire under fuzz', (t) => fuzzWire(t, { frames, seed, maxRssGrowth: 150 * MiB, timeoutMs: 120_000 }))
