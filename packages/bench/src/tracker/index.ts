import { cpus } from 'node:os'
import { measure } from './measure.js'
import type { Measurement, Plan, Workload } from './measure.js'

/** Outstanding operations per connection: about 4,000 in all, at least 1, at most 32. */
function inFlightFor(connections: number): number {
  return Math.min(32, Math.max(1, Math.ceil(4000 / connections)))
}

/**
 * The tracker scenario. For each connection count the Shoal tracker and bittorrent-tracker
 * (WebSocket only) each run in their own process under the same load generator, itself
 * another process: Shoal peers send `have` + `find` pairs, WebTorrent peers announces.
 * Shoal finds ask for no per-source chunk lists, as the peer daemon's do (it learns each
 * source's chunks from the source). At 1,000 connections two more Shoal runs: one whose
 * finds ask for chunk lists (each source's held ∧ wanted, 512 B at 4,096 chunks), and one
 * sending 8 `have`s per `find`, closer to real peers (haves go out every 50 ms, finds every
 * few seconds). `--quick`: a short smoke run;
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
      workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 1, chunkLists: true })
      workloads.push({ implementation: 'shoal', connections, inFlight, havesPerFind: 8, chunkLists: false })
    }
  }
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; tracker, load generator and this driver in separate processes`)
  console.log(`${plan.contents} contents × ${plan.chunks} chunks, one per peer, random bitfields; warmup ${plan.warmupMs} ms, measured ${plan.measureMs} ms`)
  console.log('shoal: have (1 chunk) + find (every missing chunk, max 0 = 20, no chunk lists), msgs = frames the tracker counted, replies = sources;')
  console.log('shoal (chunk lists): the same, finds asking for each source\'s chunk list;')
  console.log('bittorrent-tracker: announce (no offers), msgs = replies = announce responses. Latency: request to reply. CPU: % of one core.')
  console.log('/stats: GET from this driver, idle (all peers registered, no load; 300 in a row) and loaded; /healthz: the same GETs of a route that does nothing;')
  console.log('body µs: building the body inside the tracker.\n')
  console.log(HEADER)
  const rows: Measurement[] = []
  for (const workload of workloads) {
    const row = await measure(workload, plan)
    rows.push(row)
    console.log(formatRow(row))
  }
  console.log()
  summarize(rows, quick)
}

const HEADER = [
  'tracker'.padEnd(22), 'conns'.padStart(6), 'in-fl'.padStart(5), 'msgs/s'.padStart(8), 'replies/s'.padStart(9), 'reply B'.padStart(7),
  'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'trk CPU'.padStart(7), 'µs/msg'.padStart(6), 'gen CPU'.padStart(7),
  'RSS MB'.padStart(6), 'peak MB'.padStart(7), 'KB/peer'.padStart(7), '/stats ms idle p50/p99'.padStart(22), '/healthz p99'.padStart(12), 'loaded p50'.padStart(10), 'body µs'.padStart(7),
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
    (r.healthIdle === null ? '–' : fmt(r.healthIdle.percentile(0.99), 2)).padStart(12), fmt(r.statsLoaded.percentile(0.5), 1).padStart(10),
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
  if (shoal1k && bt1k) {
    verdict(shoal1k.messagesPerSecond >= 100_000, `≥ 100,000 msgs/s at 1,000 connections: ${fmt(shoal1k.messagesPerSecond, 0)}`)
    verdict(shoal1k.messagesPerSecond >= 4 * bt1k.messagesPerSecond, `≥ 4× bittorrent-tracker at 1,000 connections: ${fmt(shoal1k.messagesPerSecond / bt1k.messagesPerSecond, 2)}×`)
  }
  const shoal10k = find('shoal', 10_000, 1)
  if (shoal10k) {
    verdict(shoal10k.peakRss < 300 * 2 ** 20, `10,000 peers under 300 MB RSS: ${fmt(shoal10k.rssIdle / 2 ** 20, 0)} MB registered and idle, peak ${fmt(shoal10k.peakRss / 2 ** 20, 0)} MB under load`)
    verdict(shoal10k.statsIdle.percentile(0.99) < 5, `/stats under 5 ms at 10,000 peers: p50 ${fmt(shoal10k.statsIdle.percentile(0.5), 2)} ms, p99 ${fmt(shoal10k.statsIdle.percentile(0.99), 2)} ms over HTTP when idle ` +
      `(body built in ${fmt(shoal10k.statsComputeMicros ?? 0, 0)} µs; /healthz, which does nothing, p99 ${fmt(shoal10k.healthIdle?.percentile(0.99) ?? 0, 2)} ms); p50 ${fmt(shoal10k.statsLoaded.percentile(0.5), 0)} ms behind a saturated event loop`)
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
