import { createHash } from 'node:crypto'
import { contentIdOf, encodeManifest, merkleRoot, toHex } from '@shoal/protocol'
import type { ManifestFile } from '@shoal/protocol'

export interface CraftedManifest {
  bytes: Uint8Array
  id: Uint8Array
  idHex: string
  chunkCount: number
}

export interface CraftInit {
  name: string
  kind?: 'file' | 'directory'
  /** In the order given: nothing is sorted or checked, so a test can break any rule. */
  files: ManifestFile[]
  chunkSize?: number
  /** What the chunk hashes are hashes of; default the chunk index, so they differ. */
  seed?: string
}

/**
 * Manifest bytes in the canonical encoding, with correct sizes, chunk hashes and merkle
 * root, but paths and names exactly as given: a well-formed manifest that breaks only
 * the rules a test wants broken. Its content id is the hash of those bytes, as for any.
 */
export function craftManifest(init: CraftInit): CraftedManifest {
  const chunkSize = init.chunkSize ?? 16 * 1024
  const size = init.files.reduce((sum, f) => sum + f.size, 0)
  const chunkCount = Math.ceil(size / chunkSize)
  const chunkHashes = new Uint8Array(chunkCount * 32)
  for (let i = 0; i < chunkCount; i++) chunkHashes.set(createHash('sha256').update(`${init.seed ?? ''}/${i}`).digest(), i * 32)
  const bytes = encodeManifest({
    version: 1, name: init.name, kind: init.kind ?? 'directory', chunkSize, size, files: init.files, chunkHashes, root: merkleRoot(chunkHashes),
  })
  const id = contentIdOf(bytes)
  return { bytes, id, idHex: toHex(id), chunkCount }
}
