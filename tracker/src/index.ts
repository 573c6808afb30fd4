import type { Logger } from 'pino'
import type { TrackerLimits, TrackerTls } from './config.js'
import { Tracker } from './tracker.js'

export { Tracker } from './tracker.js'
export { MemoryChunkIndex } from './memory-index.js'
export { TRACKER_HEAP_FLAGS, applyTrackerHeapSettings } from './heap-settings.js'
export type * from './chunk-index.js'
export type { TrackerLimits, TrackerTls } from './config.js'
export type { Totals } from './counters.js'
export type { MostSharedContent, StatsBody, TrackerStats } from './tracker-stats.js'
export type { HistorySample } from './stats-sampler.js'

/** Everything is optional; times are in milliseconds so tests can pass short real values. */
export interface TrackerInit {
  /** Interface to listen on. Default 127.0.0.1 (the CLI defaults to 0.0.0.0). */
  host?: string
  /** TCP port; 0 picks a free one. Default 7070. */
  port?: number
  /** Where manifests and cumulative counters persist. Default ./shoal-tracker-data. */
  dataDir?: string
  /** When set, registers must carry it and /stats/contents/:id needs it as a bearer token. */
  token?: string
  /** Serve wss:// and https:// on the port, with this PEM certificate chain and key (the text, not file names). Default: plain ws:// and http://. */
  tls?: TrackerTls
  /** Take peers' addresses from X-Forwarded-For (behind a reverse proxy). Default false. */
  trustProxy?: boolean
  /** A registered peer silent this long is dropped (peers are told whole seconds, at least 1). Default 60,000. */
  ttlMs?: number
  /** After its holder disconnects, a peer id stays reserved for the holder's key this long (0: free at once). Default 2 × ttlMs. */
  peerIdGraceMs?: number
  /** A connection that has not registered this long after opening is closed (4000). Default 10,000. */
  registerTimeoutMs?: number
  /** How often ttls, register deadlines and slow consumers are checked. Default 1,000. */
  sweepIntervalMs?: number
  /** Tick of the one-minute message rate; the history keeps one sample per 60 ticks. Default 1,000. */
  statsTickMs?: number
  /** How often the cumulative counters are saved. Default 10,000. */
  persistIntervalMs?: number
  /** On close, how long peers get to answer "going away" before their sockets are cut. Default 1,000. */
  closeGraceMs?: number
  /** Chunks with fewer holders count as under-replicated. Default 3. */
  replicationTarget?: number
  /** How many of the contents with the most peers /stats and the dashboard list. Default 10. */
  mostShared?: number
  limits?: TrackerLimits
  /** Structured logger. Default: silent. */
  logger?: Logger
}

/** Creates a tracker; call `listen()` to start it and `close()` to stop it. */
export function createTracker(init: TrackerInit = {}): Tracker {
  return new Tracker(init)
}
