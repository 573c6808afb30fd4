import { randomBytes } from 'node:crypto'
import { MANIFEST_VERSION, encodeManifest, merkleRoot } from '@shoal/protocol'

/** The canonical bytes of a valid single-file manifest of `chunks` chunks (random hashes). */
export function manifestBytes(chunks: number, name = 'data.bin'): Uint8Array {
  const chunkSize = 16 * 1024
  const chunkHashes = new Uint8Array(randomBytes(32 * chunks))
  const size = chunks * chunkSize - 100
  return encodeManifest({ version: MANIFEST_VERSION, name, kind: 'file', chunkSize, size, files: [{ path: name, size }], chunkHashes, root: merkleRoot(chunkHashes) })
}
