import type { ContentKey } from './chunk-index.js'
import { InFlight } from './in-flight.js'
import type { ManifestChecker } from './manifest-checker.js'
import type { TrackerStore } from './store.js'

/**
 * Contents' names, as stored with their manifests, looked up when asked for and cached: a
 * content's manifest never changes (its id is the manifest's hash). The cache keeps the
 * `capacity` names used last; a content without a manifest costs no I/O (the store knows
 * which it has in memory) and gets its name as soon as one is published. A manifest stored
 * before names were kept is decoded once, by the checker's worker (a large one takes
 * seconds), and its name stored; one that no longer passes the check has no name.
 */
export class ContentNames {
  private readonly names = new Map<ContentKey, string>()
  private readonly lookups = new InFlight<ContentKey, string | undefined>()

  constructor(private readonly store: TrackerStore, private readonly checker: ManifestChecker, private readonly capacity: number) {}

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
    if (!this.store.hasManifest(content)) return undefined
    const name = await this.lookups.run(content, () => this.lookUp(content))
    if (name === undefined) return undefined
    this.names.set(content, name)
    if (this.names.size > this.capacity) this.names.delete(this.names.keys().next().value as ContentKey)
    return name
  }

  private async lookUp(content: ContentKey): Promise<string | undefined> {
    const stored = await this.store.getName(content)
    if (stored !== undefined) return stored
    const bytes = await this.store.getManifest(content)
    if (bytes === undefined) return undefined
    let name: string
    try {
      ;({ name } = await this.checker.check(Uint8Array.from(bytes)))
    } catch {
      return undefined
    }
    // Kept for next time; if that fails (a full disk), the next lookup decodes it again.
    await this.store.putName(content, name).catch(() => undefined)
    return name
  }
}
