import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { Bitfield, bytesEqual, chunkHash, chunkRange, decodeManifest, manifestChunkCount, sha256 } from '@shoal/protocol'

export interface VerifiedCheck {
  /** Chunks the store has marked verified. */
  verified: number
  /** Marked chunks whose bytes in the file do not hash to the manifest's hash. */
  bad: number[]
  chunkCount: number
}

/**
 * Reads what a stopped daemon's store has marked verified for a single-file download (its
 * LevelDB under `<dataDir>/db`, opened while no daemon holds it) and hashes each marked
 * chunk in `file` against the manifest: the promise under test is that a chunk is marked
 * only once its bytes are on disk.
 */
export async function checkVerifiedChunks(dataDir: string, contentId: string, file: string): Promise<VerifiedCheck> {
  const db = new Level<string, Uint8Array>(join(dataDir, 'db'), { valueEncoding: 'view' })
  try {
    const manifestBytes = await db.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' }).get(contentId)
    const haveBytes = await db.sublevel<string, Uint8Array>('have', { valueEncoding: 'view' }).get(contentId)
    if (manifestBytes === undefined || haveBytes === undefined) throw new Error(`the store has no content ${contentId}`)
    const manifest = decodeManifest(manifestBytes)
    const have = new Bitfield(manifestChunkCount(manifest), Uint8Array.from(haveBytes))
    const bad: number[] = []
    const fh = await open(file, 'r')
    try {
      for (const chunk of have) {
        const { offset, length } = chunkRange(manifest, chunk)
        const data = Buffer.alloc(length)
        const { bytesRead } = await fh.read(data, 0, length, offset)
        if (bytesRead !== length || !bytesEqual(sha256(data), chunkHash(manifest, chunk))) bad.push(chunk)
      }
    } finally {
      await fh.close()
    }
    return { verified: have.count, bad, chunkCount: have.size }
  } finally {
    await db.close()
  }
}
