import { decodeManifest } from '@shoal/protocol'
import type { ContentKey } from './chunk-index.js'
import type { TrackerStore } from './store.js'

/**
 * Contents' names, from their stored manifests, looked up when asked for and cached: a
 * content's manifest never changes (its id is the manifest's hash). The cache keeps the
 * `capacity` names used last; a content without a manifest costs no I/O (the store knows
 * which it has in memory) and gets its name as soon as one is published.
 */
export class ContentNames {
  private readonly names = new Map<ContentKey, string>()

  constructor(private readonly store: TrackerStore, private readonly capacity: number) {}

  /** The name of each content, undefined for those without a manifest. */
  namesOf(contents: readonly ContentKey[]): Promise<(string | undefined)[]> {
    return Promise.all(contents.map((content) => this.nameOf(content)))
  }

  private async nameOf(content: ContentKey): Promise<string | undefined> {
    const cached = this.names.get(content)
    if (cached !== undefined) {
      // Most recently used last, so the oldest is first to go.
      this.names.delete(content)
      this.names.set(content, cached)
      return cached
    }
    if (this.store.chunkCountOf(content) === undefined) return undefined
    const bytes = await this.store.getManifest(content)
    if (bytes === undefined) return undefined
    const { name } = decodeManifest(bytes)
    this.names.set(content, name)
    if (this.names.size > this.capacity) this.names.delete(this.names.keys().next().value as ContentKey)
    return name
  }
}
