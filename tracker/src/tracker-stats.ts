import type { ContentStats } from './chunk-index.js'
import type { Totals } from './counters.js'
import type { HistorySample } from './stats-sampler.js'

/** GET /stats. */
export interface TrackerStats {
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
  /** Cumulative since the data directory was created. */
  totals: Totals
  /** One sample a minute, the last hour, oldest first. */
  history: HistorySample[]
}

/** What the HTTP routes and the metrics read; every call is O(1), content stats O(that content). */
export interface StatsSource {
  stats(): TrackerStats
  contentStats(content: string): ContentStats | undefined
}
