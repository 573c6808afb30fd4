import t from 'tap'
import { fuzzTracker, fuzzWire } from '../lib/fault-fuzz-suite.js'
import { MiB } from '../lib/fault-process.js'

// The full count of the issue: 200,000 frames at each target.
const seed = Number(process.env.SHOAL_FUZZ_SEED ?? 55)

t.test('tracker WebSocket under 200,000 fuzz frames', (t) => fuzzTracker(t, { frames: 200_000, seed, maxRssGrowth: 150 * MiB, timeoutMs: 600_000 }))

t.test('peer wire under 200,000 fuzz frames', (t) => fuzzWire(t, { frames: 200_000, seed, maxRssGrowth: 150 * MiB, timeoutMs: 600_000 }))
