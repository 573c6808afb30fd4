import { HASH_BYTES } from './limits.js'
import { sha256 } from './hash.js'

const NODE_PREFIX = Uint8Array.of(0x01)

/**
 * Merkle root over chunk hashes (each HASH_BYTES, concatenated). Leaves are the chunk
 * hashes themselves; an inner node is SHA-256(0x01 ‖ left ‖ right); an odd node at the
 * end of a level moves up unchanged. No chunks gives SHA-256 of nothing.
 */
export function merkleRoot(chunkHashes: Uint8Array): Uint8Array {
  let level: Uint8Array[] = []
  for (let at = 0; at < chunkHashes.length; at += HASH_BYTES) level.push(chunkHashes.subarray(at, at + HASH_BYTES))
  if (level.length === 0) return sha256()
  while (level.length > 1) {
    const next: Uint8Array[] = []
    for (let i = 0; i + 1 < level.length; i += 2) next.push(sha256(NODE_PREFIX, level[i], level[i + 1]))
    if (level.length % 2 === 1) next.push(level[level.length - 1])
    level = next
  }
  return Uint8Array.from(level[0])
}
