import { createTracker } from '@shoal/tracker'
import type { TrackerInit } from '@shoal/tracker'

// A real tracker in its own process, with options the shoal-tracker CLI has no flags for
// (register timeout, sweep interval, abuse limits). Prints its URL like the CLI does.
const init = JSON.parse(process.argv[2] ?? '{}') as TrackerInit
const tracker = createTracker({ ...init, host: '127.0.0.1' })
await tracker.listen()
process.stdout.write(`tracker ${tracker.url}\n`)
process.once('SIGTERM', () => void tracker.close().then(() => process.exit(0)))
