import type { AddContent, ChunkStore, ContentPatch, ContentRecord } from './chunk-store.js'
import { checkHeld, checkWrite, ContentEntries, newEntry } from './content-entry.js'
import type { ContentEntry } from './content-entry.js'

interface MemoryEntry extends ContentEntry {
  chunks: Map<number, Buffer>
}

/**
 * Keeps downloaded chunks and all state in memory (seeds are still read from their
 * files). Nothing survives close; for tests and short-lived peers.
 */
export class MemoryChunkStore implements ChunkStore {
  private readonly entries = new ContentEntries<MemoryEntry>()

  async open(): Promise<void> {}

  list(): ContentRecord[] {
    return this.entries.records()
  }

  get(id: string): ContentRecord | undefined {
    return this.entries.get(id)?.record
  }

  async add(input: AddContent): Promise<ContentRecord> {
    const entry = { ...newEntry(input), chunks: new Map<number, Buffer>() }
    const existing = this.entries.get(entry.record.id)
    if (existing !== undefined) return existing.record
    this.entries.set(entry.record.id, entry)
    return entry.record
  }

  async update(id: string, patch: ContentPatch): Promise<void> {
    Object.assign(this.entries.mustGet(id).record, patch)
  }

  async read(id: string, chunk: number, into?: Buffer): Promise<Buffer> {
    const entry = this.entries.mustGet(id)
    const length = checkHeld(entry, chunk)
    return entry.chunks.get(chunk) ?? entry.files.read(chunk, length, into)
  }

  async write(id: string, chunk: number, data: Uint8Array): Promise<void> {
    const entry = this.entries.mustGet(id)
    if (!(await checkWrite(entry, chunk, data))) return
    entry.chunks.set(chunk, Buffer.from(data))
    entry.record.have.set(chunk)
  }

  async remove(id: string): Promise<void> {
    await this.entries.mustGet(id).files.close()
    this.entries.delete(id)
  }

  async close(): Promise<void> {
    await this.entries.closeAll()
  }
}
