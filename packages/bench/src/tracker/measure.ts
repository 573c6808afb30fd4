import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
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
  /** GET /healthz (which does no work) timed like /stats when idle: the floor the machine sets (Shoal only). */
  healthIdle: LatencyHistogram | null
  /** Building and serializing the /stats body inside the tracker, µs (Shoal only). */
  statsComputeMicros: number | null
}

/** Sequential GETs timed when idle; enough that p99 is not just the slowest one. */
const IDLE_GETS = 300

const HOST = new URL('./tracker-host.js', import.meta.url)
const GENERATOR = new URL('./load-generator.js', import.meta.url)

function start(module: URL, args: string[]): ChildProcess {
  return fork(module, args, { execArgv: process.env.PROF && module === HOST ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
}

function cpuMicros(usage: { user: number; system: number }): number {
  return usage.user + usage.system
}

/** Sequential GETs of the stats route, timed to the last body byte; none starts after `untilMs`. */
async function timeStats(url: string, times: number, gapMs: number, into: LatencyHistogram, untilMs = Infinity): Promise<void> {
  for (let i = 0; i < times && performance.now() < untilMs; i++) {
    const started = performance.now()
    const res = await fetch(url)
    await res.arrayBuffer()
    into.record(performance.now() - started)
    if (gapMs > 0) await sleep(gapMs)
  }
}

/** Starts a tracker host and a load generator, drives the load and collects both sides' figures. */
export async function measure(workload: Workload, plan: Plan): Promise<Measurement> {
  const { implementation, connections } = workload
  const host = start(HOST, [implementation])
  const generator = start(GENERATOR, [])
  try {
    const { url } = await new Promise<{ url: string }>((resolve) => host.once('message', (m) => resolve(m as { url: string })))
    const statsUrl = url.replace('ws:', 'http:') + (implementation === 'shoal' ? '/stats' : '/stats.json')
    const base = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const settings: LoadSettings = { ...workload, url, contents: plan.contents, chunks: plan.chunks, sourceAddresses: plan.sourceAddresses }
    const setup = await ask<{ seconds: number }>(generator, { cmd: 'connect', settings })
    const idle = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const { micros: statsComputeMicros } = await ask<{ micros: number | null }>(host, { cmd: 'stats-cost' })
    const statsIdle = new LatencyHistogram()
    await timeStats(statsUrl, 5, 0, new LatencyHistogram())
    await timeStats(statsUrl, IDLE_GETS, 0, statsIdle)
    const healthIdle = implementation === 'shoal' ? new LatencyHistogram() : null
    if (healthIdle !== null) await timeStats(url.replace('ws:', 'http:') + '/healthz', IDLE_GETS, 0, healthIdle)

    await ask(generator, { cmd: 'run' })
    await sleep(plan.warmupMs)
    await ask(generator, { cmd: 'mark' })
    const before = await ask<TrackerUsage>(host, { cmd: 'usage' })
    const startedAt = performance.now()
    const statsLoaded = new LatencyHistogram()
    // Under saturation a request waits behind queued frames; the last may end after the window.
    const statsDone = timeStats(statsUrl, Infinity, 200, statsLoaded, startedAt + plan.measureMs)
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
      statsComputeMicros,
    }
  } finally {
    // The tracker goes first, so it never sees its peers vanish mid-reply.
    await ask(host, { cmd: 'exit' }).catch(() => undefined)
    await ask(generator, { cmd: 'close' }).catch(() => undefined)
  }
}
