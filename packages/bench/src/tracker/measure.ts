import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { Agent, get } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { ask } from './ipc.js'
import type { Implementation, LoadReport, LoadSettings, TrackerUsage } from './ipc.js'
import { LatencyHistogram } from './latency-histogram.js'

export interface Plan {
  warmupMs: number
  measureMs: number
  contents: number
  chunks: number
  sourceAddresses: number
}

/** What one run drives. */
export interface Workload {
  implementation: Implementation
  connections: number
  inFlight: number
  /** Shoal only: `have`s sent with each `find`. */
  havesPerFind: number
  /** Shoal only: whether finds ask for each source's chunk list (the peer daemon does not). */
  chunkLists: boolean
  /** ws-floor only: the size of its canned find reply (Shoal's mean reply in the same run). */
  replyBytes?: number
}

/** One implementation at one connection count. */
export interface Measurement extends Workload {
  inFlight: number
  setupSeconds: number
  /** Frames the tracker handled per second (Shoal: its own counter; bittorrent-tracker: announces answered). */
  messagesPerSecond: number
  /** Replies per second (Shoal: sources; bittorrent-tracker: announce responses). */
  repliesPerSecond: number
  meanReplyBytes: number
  p50Ms: number
  p99Ms: number
  errors: number
  trackerCpuPercent: number
  generatorCpuPercent: number
  /** RSS once every connection registered, before load, and of it the V8 heap and buffers. */
  rssIdle: number
  heapIdle: number
  externalIdle: number
  peakRss: number
  rssPerPeer: number
  /** /stats latency with every peer registered: idle, and under load. */
  statsIdle: LatencyHistogram
  statsLoaded: LatencyHistogram
  /** GET /healthz (which does no work), alternated with the idle /stats GETs: the floor the machine sets (Shoal only). */
  healthIdle: LatencyHistogram | null
  /** The same idle GETs timed inside the tracker process, parsed request to response written (Shoal only). */
  statsServer: LatencyHistogram | null
  healthServer: LatencyHistogram | null
  /** Building and serializing the /stats body inside the tracker, µs (Shoal only). */
  statsComputeMicros: number | null
}

/** Sequential GETs of each route timed when idle; enough that p99 is not just the slowest few. */
const IDLE_GETS = 1000

const HOST = new URL('./tracker-host.js', import.meta.url)
const GENERATOR = new URL('./load-generator.js', import.meta.url)

/** One keep-alive connection for the driver's GETs, as a monitoring client would hold. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

/** GETs `url` and reads the whole body. */
function getBody(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume()
      res.once('end', resolve)
      res.once('error', reject)
    }).once('error', reject)
  })
}

/**
 * Node options for the tracker's process alone, for profiling or trying V8 settings, e.g.
 * `SHOAL_BENCH_TRACKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`; split on spaces.
 */
const TRACKER_NODE_ARGS = (process.env.SHOAL_BENCH_TRACKER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')

function start(module: URL, args: string[]): ChildProcess {
  return fork(module, args, { execArgv: module === HOST ? TRACKER_NODE_ARGS : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

function cpuMicros(usage: { user: number; system: number }): number {
  return usage.user + usage.system
}

/**
 * Sequential GETs, timed to the last body byte: `times` rounds, each one GET of every route in
 * turn (so routes compared see the same moments of the machine), none started after `untilMs`.
 */
async function timeGets(routes: [string, LatencyHistogram][], times: number, gapMs: number, untilMs = Infinity): Promise<void> {
  for (let i = 0; i < times && performance.now() < untilMs; i++) {
    for (const [url, into] of routes) {
      const started = performance.now()
      await getBody(url)
      into.record(performance.now() - started)
    }
    if (gapMs > 0) await sleep(gapMs)
  }
}

function histogramOf(millis: number[] | undefined): LatencyHistogram {
  const h = new LatencyHistogram()
  for (const ms of millis ?? []) h.record(ms)
  return h
}

/** Starts a tracker host and a load generator, drives the load and collects both sides' figures. */
export async function measure(workload: Workload, plan: Plan): Promise<Measurement> {
  const { implementation, connections } = workload
  const host = start(HOST, [implementation, String(workload.replyBytes ?? 0)])
  const generator = start(GENERATOR, [])
  try {
    const { url } = await new Promise<{ url: string }>((resolve) => host.once('message', (m) => resolve(m as { url: string })))
    const shoal = implementation === 'shoal'
    const statsUrl = url.replace('ws:', 'http:') + (shoal ? '/stats' : '/stats.json')
    const healthUrl = url.replace('ws:', 'http:') + '/healthz'
    const base = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const settings: LoadSettings = { ...workload, url, contents: plan.contents, chunks: plan.chunks, sourceAddresses: plan.sourceAddresses }
    const setup = await ask<{ seconds: number }>(generator, { cmd: 'connect', settings })
    const idle = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const { micros: statsComputeMicros } = await ask<{ micros: number | null }>(host, { cmd: 'stats-cost' })
    const statsIdle = new LatencyHistogram()
    const healthIdle = shoal ? new LatencyHistogram() : null
    const idleRoutes: [string, LatencyHistogram][] = healthIdle === null ? [[statsUrl, statsIdle]] : [[statsUrl, statsIdle], [healthUrl, healthIdle]]
    await timeGets(idleRoutes.map(([u]) => [u, new LatencyHistogram()]), 5, 0)
    await ask(host, { cmd: 'server-times' })
    await timeGets(idleRoutes, IDLE_GETS, 0)
    const serverTimes = await ask<Record<string, number[]>>(host, { cmd: 'server-times' })

    await ask(generator, { cmd: 'run' })
    await sleep(plan.warmupMs)
    await ask(generator, { cmd: 'mark' })
    const before = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const startedAt = performance.now()
    const statsLoaded = new LatencyHistogram()
    // Under saturation a request waits behind queued frames; the last may end after the window.
    const statsDone = timeGets([[statsUrl, statsLoaded]], Infinity, 200, startedAt + plan.measureMs)
    await sleep(plan.measureMs)
    const after = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const wallSeconds = (performance.now() - startedAt) / 1000
    const load = await ask<LoadReport>(generator, { cmd: 'report' })
    await statsDone
    const latency = new LatencyHistogram(load.latency)
    const repliesPerSecond = load.replies / load.seconds
    const handled = after.messages !== undefined && before.messages !== undefined ? (after.messages - before.messages) / wallSeconds : repliesPerSecond
    return {
      ...workload,
      setupSeconds: setup.seconds,
      messagesPerSecond: handled,
      repliesPerSecond,
      meanReplyBytes: load.replies === 0 ? 0 : load.replyBytes / load.replies,
      p50Ms: latency.percentile(0.5),
      p99Ms: latency.percentile(0.99),
      errors: load.errors,
      trackerCpuPercent: ((cpuMicros(after.cpu) - cpuMicros(before.cpu)) / (wallSeconds * 1e6)) * 100,
      generatorCpuPercent: (cpuMicros(load.cpu) / (load.seconds * 1e6)) * 100,
      rssIdle: idle.rss,
      heapIdle: idle.heapUsed,
      externalIdle: idle.external,
      peakRss: after.peakRss,
      rssPerPeer: (idle.rss - base.rss) / connections,
      statsIdle,
      statsLoaded,
      healthIdle,
      statsServer: shoal ? histogramOf(serverTimes['/stats']) : null,
      healthServer: shoal ? histogramOf(serverTimes['/healthz']) : null,
      statsComputeMicros,
    }
  } finally {
    // The tracker goes first, so it never sees its peers vanish mid-reply.
    await ask(host, { cmd: 'exit' }).catch(() => undefined)
    await ask(generator, { cmd: 'close' }).catch(() => undefined)
  }
}
