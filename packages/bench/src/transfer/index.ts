import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomFile } from '@shoal/testkit'
import { httpDownload, rawTcp, sha256Rate } from './baselines.js'
import { saveResult } from '../results.js'
import { lineChart } from './chart.js'
import { runSwarm } from './swarm-run.js'
import { measureTransport } from './transport.js'
import type { TransportResult } from './transport.js'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
/**
 * Scenario (2)'s chunk size: a chunk takes log2(N) hops to reach everyone, each hop one
 * chunk's time at U, so smaller chunks shorten the tail behind the last chunk the seeder sends.
 */
const SWARM_CHUNK = 256 * 1024

interface Config {
  quick: boolean
  dir: string
  only: Set<string>
  /** Measure fresh daemons, without the warm-up transfer. */
  cold: boolean
}

/**
 * `npm run bench -- transfer [--quick] [--only=transport,single,fanout,swarm] [--dir=PATH] [--cold]`.
 * Data lives in /dev/shm where there is one, so the disk is not what is measured (every
 * chunk is still hashed and fdatasync'd; tmpfs makes the sync free). Baselines are
 * measured in the same run. The daemons of each scenario first move a quarter-size file
 * among themselves, unmeasured, as daemons that have run a while; `--cold` skips that.
 */
export async function run(args: string[]): Promise<void> {
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
  const base = flag('dir') ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir())
  const config: Config = {
    quick: args.includes('--quick'),
    dir: await mkdtemp(join(base, 'shoal-bench-')),
    only: new Set((flag('only') ?? 'transport,single,fanout,swarm').split(',')),
    cold: args.includes('--cold'),
  }
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; data in ${config.dir}${config.quick ? '; --quick' : ''}`)
  console.log(config.cold
    ? 'fresh daemons (--cold): every process compiles its hot code inside the measured window'
    : 'daemons warmed first by a quarter-size transfer among themselves, as daemons that have run a while (--cold: fresh ones)')
  const results: Record<string, unknown> = {}
  try {
    if (config.only.has('transport')) results.transport = await transport(config)
    if (config.only.has('single')) results.single = await single(config)
    if (config.only.has('fanout')) results.fanout = await fanout(config)
    if (config.only.has('swarm')) results.swarm = await swarm(config)
  } finally {
    await rm(config.dir, { recursive: true, force: true })
  }
  await saveResult('transfer.json', `${JSON.stringify(results, null, 2)}\n`)
}

async function transport(config: Config): Promise<TransportResult[]> {
  const total = config.quick ? 256 * MiB : GiB
  console.log(`\n-- peer-wire transport: ${total / MiB} MiB as 1 MiB pieces, 8 requests in flight, both sides decoding with peerCodec (median of 3 alternating runs)`)
  const runs: TransportResult[] = []
  for (let round = 0; round < 3; round++) for (const t of ['tcp', 'ws'] as const) runs.push(await measureTransport(t, total))
  const medians = (['tcp', 'ws'] as const).map((t) => {
    const mine = runs.filter((r) => r.transport === t).sort((a, b) => a.mbPerSec - b.mbPerSec)
    return mine[1]
  })
  table(['transport', 'MB/s', 'recv CPU s/GiB', 'send CPU s/GiB'], medians.map((r) => [
    r.transport === 'tcp' ? 'TCP, 4-byte length prefix' : 'WebSocket (ws + bufferutil)', r.mbPerSec.toFixed(0), r.clientCpuPerGiB.toFixed(2), r.serverCpuPerGiB.toFixed(2),
  ]))
  return runs
}

async function single(config: Config) {
  const size = config.quick ? 256 * MiB : GiB
  console.log(`\n-- (1) one seeder → one downloader, ${size / MiB} MiB over loopback, 1 MiB chunks, every chunk verified`)
  const source = join(config.dir, 'source.bin')
  const sourceHash = await randomFile(source, size)
  await touchMemory(config.dir, size)
  const warmUpSource = await warmUpFile(config, 'single', size / 4)
  const shoal = await runSwarm({ dir: config.dir, source, sourceHash, downloaders: 1, chunkSize: MiB, checkFiles: true, warmUpSource })
  await removeFile(warmUpSource)
  const raw = await rawTcp(size)
  const sha = sha256Rate(size)
  const http = await httpDownload(source, join(config.dir, 'http.bin'))
  await rm(join(config.dir, 'http.bin'), { force: true })
  await rm(source, { force: true })
  const mb = size / shoal.seconds / 1e6
  const core = (cpu: number, seconds: number) => `${cpu.toFixed(2)} s (${((100 * cpu) / seconds).toFixed(0)}% of a core)`
  table(['', 'MB/s', 'receiving side CPU', 'sending side CPU'], [
    ['Shoal (tracker + 2 daemons)', mb.toFixed(0), core(shoal.downloaderCpu[0], shoal.seconds), core(shoal.seederCpu, shoal.seconds)],
    ['raw loopback TCP', raw.mbPerSec.toFixed(0), core(raw.clientCpu, raw.seconds), core(raw.serverCpu, raw.seconds)],
    ['SHA-256, one core', sha.mbPerSec.toFixed(0), core(sha.clientCpu, sha.seconds), '-'],
    ['plain HTTP download', http.mbPerSec.toFixed(0), core(http.clientCpu, http.seconds), core(http.serverCpu, http.seconds)],
  ])
  const floor = 0.7 * Math.min(raw.mbPerSec, sha.mbPerSec)
  console.log(`target ≥ 70% of min(raw TCP, SHA-256) = ${floor.toFixed(0)} MB/s: ${mb >= floor ? 'met' : 'MISSED'} (${((100 * mb) / Math.min(raw.mbPerSec, sha.mbPerSec)).toFixed(0)}%); Shoal / HTTP = ${(mb / http.mbPerSec).toFixed(2)}×`)
  return { size, shoal: { ...shoal, mbPerSec: mb }, raw, sha, http }
}

async function fanout(config: Config) {
  const size = config.quick ? 64 * MiB : 256 * MiB
  console.log(`\n-- (1b) one seeder → four downloaders, ${size / MiB} MiB, uncapped`)
  const source = join(config.dir, 'fanout.bin')
  const sourceHash = await randomFile(source, size)
  await touchMemory(config.dir, 4 * size)
  const warmUpSource = await warmUpFile(config, 'fanout', size / 4)
  const r = await runSwarm({ dir: config.dir, source, sourceHash, downloaders: 4, chunkSize: MiB, checkFiles: true, warmUpSource })
  await rm(source, { force: true })
  await removeFile(warmUpSource)
  const cpu = r.seederCpu + r.downloaderCpu.reduce((a, b) => a + b, 0)
  console.log(`all four complete in ${r.seconds.toFixed(2)} s (target ≤ 2 s: ${r.seconds <= 2 ? 'met' : 'MISSED'}); `
    + `the seeder sent ${r.chunksFromSeeder} chunks for 4 × ${r.chunks}; CPU ${cpu.toFixed(2)} s over 5 processes (${((100 * cpu) / r.seconds).toFixed(0)}% of one core; 200% is both); `
    + `the tracker got ${r.trackerHaves} haves and ${r.trackerFinds} finds`)
  return { size, ...r }
}

async function swarm(config: Config) {
  // U is kept low enough that 17 processes on two cores are bound by the cap, not by CPU:
  // this scenario measures how the swarm shares upload capacity; (1) and (1b) measure speed.
  const size = config.quick ? 8 * MiB : 32 * MiB
  const rate = config.quick ? 4 * MiB : 4 * MiB
  const counts = config.quick ? [1, 4] : [1, 4, 8, 16]
  console.log(`\n-- (2) one seeder → N downloaders, F = ${size / MiB} MiB, every peer's upload capped at U = ${rate / MiB} MiB/s, ${SWARM_CHUNK / 1024} KiB chunks`)
  const source = join(config.dir, 'swarm.bin')
  const sourceHash = await randomFile(source, size)
  const warmUpSource = await warmUpFile(config, 'swarm', size / 4)
  const rows: { n: number; seconds: number; bound: number; clientServer: number; seederChunks: number; chunks: number; cpu: number; haves: number; finds: number }[] = []
  for (const n of counts) {
    const r = await runSwarm({ dir: config.dir, source, sourceHash, downloaders: n, chunkSize: SWARM_CHUNK, uploadLimit: `${rate / MiB}M`, checkFiles: false, warmUpSource })
    const bound = Math.max(size / rate, (n * size) / ((n + 1) * rate))
    rows.push({
      n, seconds: r.seconds, bound, clientServer: (n * size) / rate, seederChunks: r.chunksFromSeeder, chunks: r.chunks,
      cpu: r.seederCpu + r.downloaderCpu.reduce((a, b) => a + b, 0), haves: r.trackerHaves, finds: r.trackerFinds,
    })
  }
  await rm(source, { force: true })
  await removeFile(warmUpSource)
  table(['N', 'swarm s', 'P2P bound s', 'client-server s', 'swarm / bound', 'chunks the seeder sent', 'CPU s, all peers', 'tracker got have : find'], rows.map((r) => [
    String(r.n), r.seconds.toFixed(2), r.bound.toFixed(2), r.clientServer.toFixed(1), `${(r.seconds / r.bound).toFixed(2)}×`, `${r.seederChunks} (F = ${r.chunks})`, r.cpu.toFixed(1),
    `${r.haves} : ${r.finds} (${(r.haves / Math.max(1, r.finds)).toFixed(1)} : 1)`,
  ]))
  const last = rows[rows.length - 1]
  console.log(`target ≤ 1.25× the bound at N = ${last.n}: ${last.seconds / last.bound <= 1.25 ? 'met' : 'MISSED'} (${(last.seconds / last.bound).toFixed(2)}×)`)
  const svg = lineChart(`One seeder → N downloaders, F = ${size / MiB} MiB, every upload capped at ${rate / MiB} MiB/s`, 'downloaders N', 'seconds until all complete (log scale)', [
    { name: 'client-server N·F/U', color: '#d62728', points: rows.map((r) => [r.n, r.clientServer]), dashed: true },
    { name: 'Shoal swarm (measured)', color: '#1f77b4', points: rows.map((r) => [r.n, r.seconds]) },
    { name: 'P2P lower bound max(F/U, N·F/((N+1)·U))', color: '#2ca02c', points: rows.map((r) => [r.n, r.bound]), dashed: true },
  ])
  console.log(`chart: ${await saveResult('transfer.svg', svg)}`)
  return { size, rate, rows }
}

/**
 * On a virtual machine, memory the guest touches for the first time costs several times
 * more to write than memory it reuses, which would charge whoever writes first. Writing
 * and freeing the output's worth of memory once puts every measured run on the same footing.
 */
async function touchMemory(dir: string, size: number): Promise<void> {
  const path = join(dir, 'warm-up.bin')
  await randomFile(path, size)
  await rm(path)
}

/** The file a scenario's daemons warm up with, or none with --cold. */
async function warmUpFile(config: Config, scenario: string, size: number): Promise<string | undefined> {
  if (config.cold) return undefined
  const path = join(config.dir, `${scenario}-warm-up.bin`)
  await randomFile(path, size)
  return path
}

async function removeFile(path: string | undefined): Promise<void> {
  if (path !== undefined) await rm(path, { force: true })
}

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')
  console.log(line(header))
  for (const r of rows) console.log(line(r))
}
