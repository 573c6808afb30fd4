import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, rmSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Cleanup } from './cleanup.js'

/**
 * Folders not yet removed: removed synchronously if this process exits first (a test file
 * timed out exits before an asynchronous teardown can finish).
 */
const left = new Set<string>()
process.on('exit', () => {
  for (const dir of left) rmSync(dir, { recursive: true, force: true })
})

/** A fresh folder under the system temp folder, removed at teardown (or at exit, whichever comes first). */
export async function tempDir(t: Cleanup, prefix = 'shoal-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  left.add(dir)
  t.teardown(async () => {
    await rm(dir, { recursive: true, force: true })
    left.delete(dir)
  })
  return dir
}

/** Writes `size` random bytes (in 4 MiB slices) and returns the file's SHA-256, hex. */
export async function randomFile(path: string, size: number): Promise<string> {
  await mkdir(dirname(path), { recursive: true })
  const hash = createHash('sha256')
  const fh = await open(path, 'w')
  try {
    for (let done = 0; done < size; ) {
      const part = randomBytes(Math.min(4 * 1024 * 1024, size - done))
      hash.update(part)
      await fh.write(part)
      done += part.length
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const part of createReadStream(path)) hash.update(part as Buffer)
  return hash.digest('hex')
}
