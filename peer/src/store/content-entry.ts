import { Bitfield, chunkRange, contentIdOf, decodeManifest, ErrorCode, manifestChunkCount, ShoalError, toHex } from '@shoal/protocol'
import type { AddContent, ContentRecord } from './chunk-store.js'
import { FileSet } from './file-set.js'
import { ContentLayout } from './layout.js'
import { verifyChunk } from './verify.js'
import type { ChunkDigest } from './verify.js'

/** A content as a store holds it: the public record plus its open files. */
export interface ContentEntry {
  record: ContentRecord
  files: FileSet
}

/** Decodes and checks the manifest, then builds the entry; a seed starts complete. */
export function newEntry(input: AddContent): ContentEntry {
  const manifest = decodeManifest(input.manifestBytes)
  const chunks = manifestChunkCount(manifest)
  const record: ContentRecord = {
    id: toHex(contentIdOf(input.manifestBytes)),
    manifest,
    manifestBytes: input.manifestBytes,
    root: input.root,
    role: input.role,
    trackers: [...input.trackers],
    peers: [...(input.peers ?? [])],
    paused: false,
    have: input.role === 'seed' ? Bitfield.full(chunks) : new Bitfield(chunks),
  }
  return { record, files: new FileSet(new ContentLayout(manifest, input.root), input.role === 'download') }
}

/**
 * Checks a chunk about to be written: its hash must match, and only downloads are
 * written. Returns false when the chunk is already held and nothing needs writing.
 */
export async function checkWrite(entry: ContentEntry, chunk: number, data: Uint8Array, digest?: ChunkDigest): Promise<boolean> {
  await verifyChunk(entry.record.manifest, chunk, data, digest)
  if (entry.record.have.has(chunk)) return false
  if (entry.record.role !== 'download') throw new ShoalError(ErrorCode.INVALID_ARGUMENT, 'a shared content is not written to')
  return true
}

/** Throws ERR_NOT_FOUND unless the chunk is verified. */
export function checkHeld(entry: ContentEntry, chunk: number): number {
  if (!entry.record.have.has(chunk)) throw new ShoalError(ErrorCode.NOT_FOUND, `chunk ${chunk} is not held`)
  return chunkRange(entry.record.manifest, chunk).length
}

/** The entries of a store by id. */
export class ContentEntries<E extends ContentEntry> extends Map<string, E> {
  records(): ContentRecord[] {
    return [...this.values()].map((e) => e.record)
  }

  mustGet(id: string): E {
    const entry = this.get(id)
    if (entry === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, `no content ${id}`)
    return entry
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.values()].map((e) => e.files.close()))
    this.clear()
  }
}
