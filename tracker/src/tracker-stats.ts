import type { ContentStats, SharedContent } from './chunk-index.js'
import type { Totals } from './counters.js'
import type { HistorySample } from './stats-sampler.js'

/** GET /stats. */
export interface TrackerStats {
  /** When these figures were read, in milliseconds since the epoch (the tracker's clock, as the samples' times). */
  time: number
  peersOnline: number
  /** Contents with at least one peer online. */
  contents: number
  /** Sum over online peers of chunks held. */
  chunkReplicas: number
  /** Open WebSocket connections, registered or not. */
  connections: number
  /** Over the last minute. */
  messagesPerSecond: number
  uptimeSeconds: number
  /** Verified manifests stored. */
  manifests: number
  /** Their bytes (bounded by limits.maxManifestBytes). */
  manifestBytes: number
  /** Cumulative since the data directory was created. */
  totals: Totals
  /** One sample every 10 s, the last 10 minutes, oldest first. */
  recent: HistorySample[]
  /** One sample a minute, the last hour, oldest first. */
  history: HistorySample[]
}

/** One of the most-shared contents, with its name when the tracker has its manifest. */
export interface MostSharedContent extends SharedContent {
  name?: string
}

/** GET /stats: the figures and the most-shared contents. */
export interface StatsBody extends TrackerStats {
  /** By peers online, most first. Absent when the tracker has a token and the request does not carry it. */
  mostShared?: MostSharedContent[]
}

/**
 * What the HTTP routes and the metrics read; stats() is O(1), content stats O(that content),
 * the most shared O(their number) plus a manifest read for each name not cached yet.
 */
export interface StatsSource {
  stats(): TrackerStats
  contentStats(content: string): ContentStats | undefined
  mostShared(): Promise<MostSharedContent[]>
}
