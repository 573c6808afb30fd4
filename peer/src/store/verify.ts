import { webcrypto } from 'node:crypto'
import { bytesEqual, chunkHash, chunkRange, HashMismatchError, InvalidArgumentError, manifestChunkCount } from '@shoal/protocol'
import type { Manifest } from '@shoal/protocol'

/**
 * SHA-256 off the main thread: WebCrypto digests run on libuv's thread pool, so the
 * event loop keeps receiving while chunks are hashed.
 */
export async function digest(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.digest('SHA-256', data))
}

/** Throws unless `data` is exactly chunk `index` of the manifest. */
export async function verifyChunk(manifest: Manifest, index: number, data: Uint8Array): Promise<void> {
  if (!Number.isInteger(index) || index < 0 || index >= manifestChunkCount(manifest)) {
    throw new InvalidArgumentError('chunk', `${index} is not a chunk of this content`)
  }
  if (data.length !== chunkRange(manifest, index).length) throw new HashMismatchError(`chunk ${index} has the wrong length`)
  if (!bytesEqual(await digest(data), chunkHash(manifest, index))) throw new HashMismatchError(`chunk ${index} does not match its hash`)
}
