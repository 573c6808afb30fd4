import { Level } from 'level'
import type { ContentKey } from './chunk-index.js'

const COUNTERS_KEY = 'totals'

/**
 * What survives a restart, in one LevelDB directory: verified manifests by content id,
 * their chunk counts (kept in memory too, since every register checks them), and the
 * cumulative counters. The live index is not stored: peers re-register.
 */
export class TrackerStore {
  private readonly db: Level<string, Uint8Array>
  private readonly manifests
  private readonly chunkCounts
  private readonly meta
  private readonly counts = new Map<ContentKey, number>()

  constructor(dataDir: string) {
    this.db = new Level<string, Uint8Array>(dataDir, { valueEncoding: 'view' })
    this.manifests = this.db.sublevel<string, Uint8Array>('manifest', { valueEncoding: 'view' })
    this.chunkCounts = this.db.sublevel<string, number>('chunk-count', { valueEncoding: 'json' })
    this.meta = this.db.sublevel<string, unknown>('meta', { valueEncoding: 'json' })
  }

  async open(): Promise<void> {
    await this.db.open()
    for await (const [key, count] of this.chunkCounts.iterator()) this.counts.set(key, count)
  }

  get manifestCount(): number {
    return this.counts.size
  }

  chunkCountOf(content: ContentKey): number | undefined {
    return this.counts.get(content)
  }

  /** Records the chunk count at once (registers check it synchronously), then persists both. */
  async putManifest(content: ContentKey, bytes: Uint8Array, chunkCount: number): Promise<void> {
    this.counts.set(content, chunkCount)
    try {
      await this.db.batch()
        .put(content, bytes, { sublevel: this.manifests })
        .put(content, chunkCount, { sublevel: this.chunkCounts })
        .write()
    } catch (err) {
      // Not stored (a full disk, say): forget it, so a later publish stores it for real.
      this.counts.delete(content)
      throw err
    }
  }

  getManifest(content: ContentKey): Promise<Uint8Array | undefined> {
    return this.manifests.get(content)
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
