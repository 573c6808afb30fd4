import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTracker } from './index.js'
import type { Tracker, TrackerInit } from './index.js'

/** Anything with a tap-style `teardown`. */
export interface TeardownHost {
  teardown(fn: () => unknown): void
}

/**
 * Starts a real tracker on 127.0.0.1 and a free port, in a fresh temporary data directory
 * unless `init.dataDir` is given, and registers its shutdown (and the directory's removal)
 * as teardown.
 */
export async function createTestTracker(t: TeardownHost, init: TrackerInit = {}): Promise<Tracker> {
  const dataDir = init.dataDir ?? (await mkdtemp(join(tmpdir(), 'shoal-tracker-')))
  const tracker = createTracker({ host: '127.0.0.1', port: 0, ...init, dataDir })
  t.teardown(async () => {
    await tracker.close()
    if (init.dataDir === undefined) await rm(dataDir, { recursive: true, force: true })
  })
  await tracker.listen()
  return tracker
}
