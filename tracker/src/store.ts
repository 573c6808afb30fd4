import { Level } from 'level'
import type { ContentKey } from './chunk-index.js'

const COUNTERS_KEY = 'totals'

/**
 * What survives a restart, in one LevelDB directory: verified manifests by content id,
 * their chunk counts (kept in memory too, since every register checks them), names (so a
 * stats page never decodes a manifest) and sizes (so the bytes stored are known without
 * reading them), and the cumulative counters. The live index is not stored: peers
 * re-register.
 */
export class TrackerStore {
  private readonly db: Level<string, Uint8Array>
  private readonly manifests
  private readonly chunkCounts
  private readonly names
  private readonly sizes
  private readonly meta
  /** Chunk counts of the stored manifests, and of those being written. */
  private readonly counts = new Map<ContentKey, number>()
  private readonly writing = new Map<ContentKey, number>()
  /** Bytes of the stored manifests, and of those being written. */
  private storedBytes = 0
  private writingBytes = 0

  constructor(dataDir: string) {
    this.db = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
    this.manifests = this.db.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' })
    this.chunkCounts = this.db.sublevel<string, number>('chunk-count', { valueEncoding: 'json' })
    this.names = this.db.sublevel<string, string>('name', { valueEncoding: 'utf8' })
    this.sizes = this.db.sublevel<string, number>('size', { valueEncoding: 'json' })
    this.meta = this.db.sublevel<string, unknown>('meta', { valueEncoding: 'json' })
  }

  async open(): Promise<void> {
    await this.db.open()
    for await (const [key, count] of this.chunkCounts.iterator()) this.counts.set(key, count)
    const sized = new Set<ContentKey>()
    for await (const [key, size] of this.sizes.iterator()) {
      sized.add(key)
      this.storedBytes += size
    }
    // A store written before sizes were kept: measured once, then kept.
    for (const key of this.counts.keys()) {
      if (sized.has(key)) continue
      const size = (await this.manifests.get(key))?.length ?? 0
      await this.sizes.put(key, size)
      this.storedBytes += size
    }
  }

  get manifestCount(): number {
    return this.counts.size
  }

  /** Bytes of manifests stored, and being written. */
  get manifestBytes(): number {
    return this.storedBytes + this.writingBytes
  }

  /** The chunk count of a verified manifest, stored or being written (registers check it). */
  chunkCountOf(content: ContentKey): number | undefined {
    return this.counts.get(content) ?? this.writing.get(content)
  }

  /** Whether the manifest is on disk: only then is a publish of it acknowledged. */
  hasManifest(content: ContentKey): boolean {
    return this.counts.has(content)
  }

  /** Makes the chunk count known at once (registers check it synchronously), then persists it all. */
  async putManifest(content: ContentKey, bytes: Uint8Array, chunkCount: number, name: string): Promise<void> {
    this.writing.set(content, chunkCount)
    this.writingBytes += bytes.length
    try {
      await this.db.batch()
        .put(content, bytes, { sublevel: this.manifests })
        .put(content, chunkCount, { sublevel: this.chunkCounts })
        .put(content, name, { sublevel: this.names })
        .put(content, bytes.length, { sublevel: this.sizes })
        .write()
      this.counts.set(content, chunkCount)
      this.storedBytes += bytes.length
    } finally {
      // Not stored (a full disk, say): forgotten, so a later publish stores it for real.
      this.writing.delete(content)
      this.writingBytes -= bytes.length
    }
  }

  getManifest(content: ContentKey): Promise<Uint8Array | undefined> {
    return this.manifests.get(content)
  }

  /** A stored manifest's content name; undefined for one stored before names were kept. */
  getName(content: ContentKey): Promise<string | undefined> {
    return this.names.get(content)
  }

  putName(content: ContentKey, name: string): Promise<void> {
    return this.names.put(content, name)
  }

  loadTotals(): Promise<unknown> {
    return this.meta.get(COUNTERS_KEY)
  }

  saveTotals(totals: object): Promise<void> {
    return this.meta.put(COUNTERS_KEY, totals)
  }

  close(): Promise<void> {
    return this.db.close()
  }
}
