import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A small seeded generator (xorshift32), so randomized tests replay exactly. */
export function seeded(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A fresh temp folder removed when the test ends. */
export async function tempDir(t: Teardown, prefix = 'shoal-peer-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}
