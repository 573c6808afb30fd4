import { bytesEqual, chunkHash, chunkRange, HashMismatchError, InvalidArgumentError, manifestChunkCount, sha256 } from '@shoal/protocol'
import type { Manifest } from '@shoal/protocol'

/** SHA-256 of a chunk, wherever it is computed. */
export type ChunkDigest = (data: Uint8Array) => Promise<Uint8Array>

const digestHere: ChunkDigest = async (data) => sha256(data)

/** Throws unless `data` is exactly chunk `index` of the manifest. */
export async function verifyChunk(manifest: Manifest, index: number, data: Uint8Array, digest: ChunkDigest = digestHere): Promise<void> {
  if (!Number.isInteger(index) || index < 0 || index >= manifestChunkCount(manifest)) {
    throw new InvalidArgumentError('chunk', `${index} is not a chunk of this content`)
  }
  if (data.length !== chunkRange(manifest, index).length) throw new HashMismatchError(`chunk ${index} has the wrong length`)
  if (!bytesEqual(await digest(data), chunkHash(manifest, index))) {
    throw new HashMismatchError(`chunk ${index} does not match its hash`)
  }
}
