import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import type { Totals } from './counters.js'
import type { StatsSource, TrackerStats } from './tracker-stats.js'

type GaugeFigure = Exclude<keyof TrackerStats, 'time' | 'totals' | 'recent' | 'history'>

const GAUGES: [string, GaugeFigure, string][] = [
  ['peers_online', 'peersOnline', 'Registered peers online'],
  ['contents', 'contents', 'Contents with at least one peer online'],
  ['chunk_replicas', 'chunkReplicas', 'Sum over online peers of chunks held'],
  ['connections', 'connections', 'Open WebSocket connections'],
  ['messages_per_second', 'messagesPerSecond', 'Messages received per second over the last minute'],
  ['uptime_seconds', 'uptimeSeconds', 'Seconds since the tracker started'],
  ['manifests', 'manifests', 'Verified manifests stored'],
  ['manifest_bytes', 'manifestBytes', 'Bytes of the verified manifests stored'],
]

const COUNTERS: [string, keyof Totals, string][] = [
  ['errors_total', 'errors', 'Error replies sent'],
  ['invalid_messages_total', 'invalid', 'Invalid frames received'],
  ['rate_limited_total', 'rateLimited', 'Messages refused for exceeding the rate limit'],
  ['connections_total', 'connections', 'WebSocket connections accepted'],
  ['expired_total', 'expired', 'Peers dropped for silence beyond the ttl'],
  ['register_timeouts_total', 'registerTimeouts', 'Connections closed for not registering in time'],
  ['replaced_total', 'replaced', 'Connections replaced by a newer one for the same peer id'],
  ['slow_consumers_total', 'slowConsumers', 'Connections closed for not reading their replies'],
  ['connections_refused_total', 'connectionsRefused', 'WebSocket upgrades refused for too many connections from one address'],
  ['auth_failures_total', 'authFailures', 'Registers refused for a wrong token or key'],
  ['manifests_published_total', 'manifestsPublished', 'New manifests stored'],
]

const MESSAGE_TYPES = ['register', 'have', 'lost', 'heartbeat', 'unregister', 'publish', 'get-manifest', 'find', 'report'] as const

/**
 * A Prometheus registry whose metrics read the tracker's counters when scraped: nothing
 * is updated on the message path. Process metrics (CPU, memory, event loop) come from
 * prom-client's defaults.
 */
export function createMetrics(source: Pick<StatsSource, 'stats'>): Registry {
  const registry = new Registry()
  // One snapshot serves every metric of a scrape, so its figures agree with each other.
  let taken: TrackerStats | undefined
  const snapshot = (): TrackerStats => {
    if (taken === undefined) {
      taken = source.stats()
      setImmediate(() => { taken = undefined })
    }
    return taken
  }
  for (const [name, figure, help] of GAUGES) {
    new Gauge({ name: `shoal_tracker_${name}`, help, registers: [registry], collect() { this.set(snapshot()[figure]) } })
  }
  for (const [name, total, help] of COUNTERS) {
    new Counter({ name: `shoal_tracker_${name}`, help, registers: [registry], collect() { this.reset(); this.inc(snapshot().totals[total]) } })
  }
  new Counter({
    name: 'shoal_tracker_messages_total', help: 'Messages received, by type', labelNames: ['type'], registers: [registry],
    collect() {
      const { totals } = snapshot()
      this.reset()
      for (const type of MESSAGE_TYPES) this.inc({ type }, totals[type])
    },
  })
  collectDefaultMetrics({ register: registry, prefix: 'shoal_tracker_' })
  // Gauges named *_total break the Prometheus naming rules (promtool flags them); the
  // per-type nodejs_active_* gauges beside them carry the same figures.
  for (const kind of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`shoal_tracker_nodejs_active_${kind}_total`)
  return registry
}
