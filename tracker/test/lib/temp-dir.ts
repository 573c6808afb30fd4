import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TapTest } from './tap-test.js'

/** A fresh temporary directory, removed at teardown. */
export async function tempDir(t: TapTest, prefix = 'shoal-tracker-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}
