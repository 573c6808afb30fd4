import { cpus } from 'node:os'
import { measure } from './measure.js'
import type { Measurement, Plan, Workload } from './measure.js'
import type { LatencyHistogram } from './latency-histogram.js'
import { saveResult } from '../results.js'

/** Outstanding operations per connection: about 4,000 in all, at least 1, at most 32. */
function inFlightFor(connections: number): number {
  return Math.min(32, Math.max(1, Math.ceil(4000 / connections)))
}

/**
 * The tracker scenario. For each connection count the Shoal tracker and bittorrent-tracker
 * (WebSocket only) each run in their own process under the same load generator, itself
 * another process: Shoal peers send `have` + `find` pairs, WebTorrent peers announces.
 * Shoal finds ask for no per-source chunk lists, as the peer daemon's do (it learns each
 * source's chunks from the source). At 1,000 connections more runs: Shoal with finds that
 * ask for chunk lists (each source's held ∧ wanted, 512 B at 4,096 chunks); Shoal sending 4
 * and 8 `have`s per `find`, the range real daemons send (the transfer scenarios count 3–8
 * per find at the tracker); and ws-floor, the transport without a tracker behind it.
 * `--quick`: a short smoke run;
 * `--connections=1000[,…]`: only those connection counts.
 */
export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const plan: Plan = { warmupMs: quick ? 500 : 2000, measureMs: quick ? 1500 : 5000, contents: 100, chunks: 4096, sourceAddresses: 8 }
  const workloads: Workload[] = []
  const only = args.find((a) => a.startsWith('--connections='))?.slice('--connections='.length).split(',').map(Number)
  for (const connections of only ?? (quick ? [100, 1000] : [100, 1000, 10_000])) {
    const inFlight = inFlightFor(connections)
    workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 1, chunkLists: false })
    workloads.push({ implementation: 'bittorrent-tracker', connections, inFlight, havesPerFind: 0, chunkLists: false })
    if (connections === 1000) {
      workloads.push({ implementation: 'ws-floor', connections, inFlight, havesPerFind: 1, chunkLists: false })
      workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 1, chunkLists: true })
      workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 4, chunkLists: false })
      workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 8, chunkLists: false })
    }
  }
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; tracker, load generator and this driver in separate processes`)
  console.log(`${plan.contents} contents × ${plan.chunks} chunks, one per peer, random bitfields; warmup ${plan.warmupMs} ms, measured ${plan.measureMs} ms`)
  console.log('shoal: have (1 chunk) + find (every missing chunk, max 0 = 20, no chunk lists), msgs = frames the tracker counted, replies = sources;')
  console.log('shoal (chunk lists): the same, finds asking for each source\'s chunk list;')
  console.log('ws-floor: the same HTTP server, ws settings and one write per read, but no tracker: a canned reply of Shoal\'s size to each find, nothing to haves —')
  console.log('  what the transport alone costs per message on this machine;')
  console.log('bittorrent-tracker: announce (no offers), msgs = replies = announce responses. Latency: request to reply. CPU: % of one core.')
  console.log('RSS: once every peer registered, before load; peak: the tracker process\'s RSS high-water mark over the whole run (VmHWM).')
  console.log('/stats: GETs from this driver over one keep-alive connection, idle (all peers registered, no load; 1,000, each followed by a GET of')
  console.log('  /healthz, a route that does nothing) and loaded; in-trk: the same idle GETs timed inside the tracker process (request parsed to')
  console.log('  response written); body µs: building the body inside the tracker.\n')
  console.log(HEADER)
  const rows: Measurement[] = []
  for (const workload of workloads) {
    // The floor answers finds with as many bytes as Shoal's answers had in this run.
    const shoalRow = rows.find((r) => r.implementation === 'shoal' && r.connections === workload.connections && !r.chunkLists && r.havesPerFind === 1)
    if (workload.implementation === 'ws-floor') workload.replyBytes = Math.max(16, Math.round(shoalRow?.meanReplyBytes ?? 550))
    const row = await measure(workload, plan)
    rows.push(row)
    console.log(formatRow(row))
  }
  console.log()
  summarize(rows, quick)
  console.log(`results: ${await saveResult('tracker.json', `${JSON.stringify(rows.map(figures), null, 2)}\n`)}`)
}

/** A row as plain figures: latency histograms become the percentiles the table shows. */
function figures(r: Measurement): Record<string, unknown> {
  const ms = (h: LatencyHistogram | null, q: number) => (h === null ? null : Number(h.percentile(q).toFixed(3)))
  const { statsIdle, statsLoaded, healthIdle, statsServer, healthServer, ...plain } = r
  return {
    label: label(r), ...plain,
    statsIdleP50Ms: ms(statsIdle, 0.5), statsIdleP99Ms: ms(statsIdle, 0.99), healthIdleP99Ms: ms(healthIdle, 0.99),
    statsInsideP50Ms: ms(statsServer, 0.5), statsInsideP99Ms: ms(statsServer, 0.99), healthInsideP99Ms: ms(healthServer, 0.99),
    statsLoadedP50Ms: ms(statsLoaded, 0.5),
  }
}

const HEADER = [
  'tracker'.padEnd(22), 'conns'.padStart(6), 'in-fl'.padStart(5), 'msgs/s'.padStart(8), 'replies/s'.padStart(9), 'reply B'.padStart(7),
  'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'trk CPU'.padStart(7), 'µs/msg'.padStart(6), 'gen CPU'.padStart(7),
  'RSS MB'.padStart(6), 'peak MB'.padStart(7), 'KB/peer'.padStart(7), '/stats ms idle p50/p99'.padStart(22), '/healthz p99'.padStart(12),
  'in-trk p99'.padStart(10), 'loaded p50'.padStart(10), 'body µs'.padStart(7),
].join(' ')

function label(r: Workload): string {
  if (r.implementation !== 'shoal') return r.implementation
  if (r.chunkLists) return 'shoal (chunk lists)'
  return r.havesPerFind === 1 ? 'shoal' : `shoal (${r.havesPerFind} have : 1 find)`
}

function formatRow(r: Measurement): string {
  return [
    label(r).padEnd(22), String(r.connections).padStart(6), String(r.inFlight).padStart(5),
    fmt(r.messagesPerSecond, 0).padStart(8), fmt(r.repliesPerSecond, 0).padStart(9), fmt(r.meanReplyBytes, 0).padStart(7),
    fmt(r.p50Ms, 1).padStart(8), fmt(r.p99Ms, 1).padStart(8), `${fmt(r.trackerCpuPercent, 0)}%`.padStart(7),
    fmt((r.trackerCpuPercent * 1e4) / r.messagesPerSecond, 1).padStart(6), `${fmt(r.generatorCpuPercent, 0)}%`.padStart(7),
    fmt(r.rssIdle / 2 ** 20, 0).padStart(6), fmt(r.peakRss / 2 ** 20, 0).padStart(7), fmt(r.rssPerPeer / 1024, 1).padStart(7),
    `${fmt(r.statsIdle.percentile(0.5), 2)} / ${fmt(r.statsIdle.percentile(0.99), 2)}`.padStart(22),
    (r.healthIdle === null ? '–' : fmt(r.healthIdle.percentile(0.99), 2)).padStart(12),
    (r.statsServer === null ? '–' : fmt(r.statsServer.percentile(0.99), 2)).padStart(10), fmt(r.statsLoaded.percentile(0.5), 1).padStart(10),
    (r.statsComputeMicros === null ? '–' : fmt(r.statsComputeMicros, 0)).padStart(7),
  ].join(' ') + (r.errors > 0 ? `  (${r.errors} error replies)` : '')
}

function summarize(rows: Measurement[], quick: boolean): void {
  const find = (impl: string, connections: number, havesPerFind: number, chunkLists = false) =>
    rows.find((r) => r.implementation === impl && r.connections === connections && r.havesPerFind === havesPerFind && r.chunkLists === chunkLists)
  for (const connections of [...new Set(rows.map((r) => r.connections))]) {
    const bt = find('bittorrent-tracker', connections, 0)
    for (const shoal of [find('shoal', connections, 1), find('shoal', connections, 1, true)]) {
      if (shoal === undefined || bt === undefined) continue
      const cpuRatio = (bt.trackerCpuPercent / bt.messagesPerSecond) / (shoal.trackerCpuPercent / shoal.messagesPerSecond)
      console.log(`${connections} connections, ${label(shoal)} ÷ bittorrent-tracker: ${fmt(shoal.messagesPerSecond / bt.messagesPerSecond, 2)}× msgs/s, ` +
        `${fmt(shoal.repliesPerSecond / bt.repliesPerSecond, 2)}× replies/s, ${fmt(cpuRatio, 2)}× less tracker CPU per message`)
    }
  }
  const shoal1k = find('shoal', 1000, 1)
  const bt1k = find('bittorrent-tracker', 1000, 0)
  const floor1k = find('ws-floor', 1000, 1)
  if (floor1k && bt1k && shoal1k) {
    const perMessage = (r: Measurement) => (r.trackerCpuPercent * 1e4) / r.messagesPerSecond
    console.log(`1000 connections, transport alone (ws-floor): ${fmt(floor1k.messagesPerSecond, 0)} msgs/s, ${fmt(floor1k.messagesPerSecond / bt1k.messagesPerSecond, 2)}× bittorrent-tracker, ` +
      `${fmt(perMessage(floor1k), 1)} µs per message; the tracker's own work adds ${fmt(perMessage(shoal1k) - perMessage(floor1k), 1)} µs`)
  }
  if (shoal1k && bt1k) {
    verdict(shoal1k.messagesPerSecond >= 100_000, `≥ 100,000 msgs/s at 1,000 connections: ${fmt(shoal1k.messagesPerSecond, 0)}`)
    verdict(shoal1k.messagesPerSecond >= 4 * bt1k.messagesPerSecond, `≥ 4× bittorrent-tracker at 1,000 connections: ${fmt(shoal1k.messagesPerSecond / bt1k.messagesPerSecond, 2)}×`)
  }
  const shoal10k = find('shoal', 10_000, 1)
  if (shoal10k) {
    verdict(shoal10k.peakRss < 300 * 2 ** 20, `10,000 peers under 300 MB RSS: ${fmt(shoal10k.rssIdle / 2 ** 20, 0)} MB registered and idle, peak ${fmt(shoal10k.peakRss / 2 ** 20, 0)} MB over the run (the kernel's high-water mark, load included)`)
    // The target is the route's own cost. Over HTTP its tail is the machine's (the no-op /healthz
    // alternating with it has the same), so the verdict takes the time inside the tracker.
    const inside = shoal10k.statsServer
    const p = (h: LatencyHistogram | null | undefined, q: number) => fmt(h?.percentile(q) ?? 0, 2)
    verdict(inside !== null && inside.percentile(0.99) < 5 && shoal10k.statsIdle.percentile(0.5) < 5,
      `/stats under 5 ms at 10,000 peers: inside the tracker p50 ${p(inside, 0.5)} ms, p99 ${p(inside, 0.99)} ms (/healthz ${p(shoal10k.healthServer, 0.99)}); ` +
      `over HTTP p50 ${p(shoal10k.statsIdle, 0.5)} ms, p99 ${p(shoal10k.statsIdle, 0.99)} ms against ${p(shoal10k.healthIdle, 0.99)} ms for /healthz, which does nothing; ` +
      `body built in ${fmt(shoal10k.statsComputeMicros ?? 0, 0)} µs; p50 ${fmt(shoal10k.statsLoaded.percentile(0.5), 0)} ms behind a saturated event loop`)
  } else if (quick) {
    console.log('(--quick skips the 10,000-connection level)')
  }
}

function verdict(ok: boolean, text: string): void {
  console.log(`${ok ? 'MET ' : 'MISS'}  ${text}`)
}

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}
