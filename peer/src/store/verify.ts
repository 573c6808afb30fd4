import { createHash } from 'node:crypto'
import { bytesEqual, chunkHash, chunkRange, HashMismatchError, InvalidArgumentError, manifestChunkCount } from '@shoal/protocol'
import type { Manifest } from '@shoal/protocol'

/** Throws unless `data` is exactly chunk `index` of the manifest. */
export async function verifyChunk(manifest: Manifest, index: number, data: Uint8Array): Promise<void> {
  if (!Number.isInteger(index) || index < 0 || index >= manifestChunkCount(manifest)) {
    throw new InvalidArgumentError('chunk', `${index} is not a chunk of this content`)
  }
  if (data.length !== chunkRange(manifest, index).length) throw new HashMismatchError(`chunk ${index} has the wrong length`)
  // Hashed in place: on a small machine a thread hop plus the copy it needs costs more
  // CPU than it frees (measured: about 30% more CPU per byte for no gain in time).
  if (!bytesEqual(createHash('sha256').update(data).digest(), chunkHash(manifest, index))) {
    throw new HashMismatchError(`chunk ${index} does not match its hash`)
  }
}
