import { createHash } from 'node:crypto'
import type { Hash } from 'node:crypto'
import { InvalidArgumentError } from './errors.js'
import { HASH_BYTES, MAX_CHUNKS } from './limits.js'
import { chooseChunkSize, chunkCountOf, isValidChunkSize, MANIFEST_VERSION, validateFileList, validateManifest } from './manifest.js'
import type { Manifest, ManifestFile } from './manifest.js'
import { merkleRoot } from './merkle.js'
import { comparePaths } from './paths.js'

export interface ManifestBuilderInit {
  name: string
  kind: 'file' | 'directory'
  /** In any order; the builder sorts them into canonical order. Feed bytes in that order. */
  files: ManifestFile[]
  /** Power of two from 16 KiB to 16 MiB; by default 1 MiB, grown for very large contents. */
  chunkSize?: number
}

/**
 * Builds a manifest from a byte stream fed in pieces of any size. It holds one running
 * hash, never a chunk's bytes, so a content of any size hashes in constant memory.
 */
export class ManifestBuilder {
  readonly files: ManifestFile[]
  readonly chunkSize: number
  readonly size: number
  private readonly hashes: Uint8Array
  private chunk = 0
  private inChunk = 0
  private fed = 0
  private hash: Hash = createHash('sha256')

  constructor(private readonly init: ManifestBuilderInit) {
    this.files = [...init.files].sort((a, b) => comparePaths(a.path, b.path))
    // Names, paths and the file count are known now: a bad one fails before any byte is read, not after.
    validateFileList(init.name, init.kind, this.files)
    for (const f of this.files) {
      if (!Number.isSafeInteger(f.size) || f.size < 0) throw new InvalidArgumentError('files', `size of "${f.path}" must be a non-negative integer`)
    }
    this.size = this.files.reduce((sum, f) => sum + f.size, 0)
    this.chunkSize = init.chunkSize ?? chooseChunkSize(this.size)
    if (!isValidChunkSize(this.chunkSize)) throw new InvalidArgumentError('chunkSize', 'must be a power of two from 16 KiB to 16 MiB')
    // Fail before hashing (and before allocating the hash table) when the content cannot be described.
    const chunks = chunkCountOf(this.size, this.chunkSize)
    if (chunks > MAX_CHUNKS) throw new InvalidArgumentError('files', `${this.size} bytes need ${chunks} chunks, more than ${MAX_CHUNKS}`)
    this.hashes = new Uint8Array(chunks * HASH_BYTES)
  }

  /** Bytes fed so far. */
  get bytesHashed(): number {
    return this.fed
  }

  update(data: Uint8Array): void {
    if (this.fed + data.length > this.size) throw new InvalidArgumentError('data', 'more bytes than the files hold')
    let at = 0
    while (at < data.length) {
      const take = Math.min(this.chunkSize - this.inChunk, data.length - at)
      this.hash.update(data.subarray(at, at + take))
      at += take
      this.inChunk += take
      this.fed += take
      if (this.inChunk === this.chunkSize || this.fed === this.size) this.closeChunk()
    }
  }

  finish(): Manifest {
    if (this.fed !== this.size) throw new InvalidArgumentError('data', `expected ${this.size} bytes, got ${this.fed}`)
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      name: this.init.name,
      kind: this.init.kind,
      chunkSize: this.chunkSize,
      size: this.size,
      files: this.files,
      chunkHashes: this.hashes,
      root: merkleRoot(this.hashes),
    }
    validateManifest(manifest)
    return manifest
  }

  private closeChunk(): void {
    this.hashes.set(this.hash.digest(), this.chunk * HASH_BYTES)
    this.chunk++
    this.inChunk = 0
    this.hash = createHash('sha256')
  }
}
