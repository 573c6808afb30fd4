/**
 * `npm run demo`: a tracker and four peer daemons on 127.0.0.1, data under ./.shoal-demo.
 * One peer shares a generated file; the three others download it at once, each peer's
 * upload capped so the swarm effect is visible; hashes are checked and the tracker's
 * stats URL printed. Runs until Ctrl-C (or exits when done with --exit), then stops
 * every process and removes ./.shoal-demo (kept with --keep).
 */
import { mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import cliProgress from 'cli-progress'
import { CleanupStack, randomFile, sha256File, startPeer, startTracker } from '@shoal/testkit'
import type { TestPeer } from '@shoal/testkit'
import type { ContentStatus } from '@shoal/peer'

const ROOT = resolve('.shoal-demo')
const SIZE = 64 * 1024 * 1024
const UPLOAD_MIB = 16
const DOWNLOADERS = 3
const MiB = 1024 * 1024

const args = new Set(process.argv.slice(2))
const cleanup = new CleanupStack()

async function main(): Promise<void> {
  await rm(ROOT, { recursive: true, force: true })
  await mkdir(ROOT, { recursive: true })
  if (!args.has('--keep')) cleanup.teardown(() => rm(ROOT, { recursive: true, force: true }))

  const tracker = await startTracker(cleanup, { dataDir: join(ROOT, 'tracker') })
  say(`tracker   ${tracker.url}   (stats: ${tracker.statsUrl})`)
  const peers: TestPeer[] = []
  for (let i = 0; i <= DOWNLOADERS; i++) {
    peers.push(await startPeer(cleanup, { dataDir: join(ROOT, `peer-${i}`), trackers: [tracker.url], uploadLimit: `${UPLOAD_MIB}M` }))
    say(`peer ${i}    ${peers[i].peerId.slice(0, 12)} on port ${peers[i].port}${i === 0 ? ' (seeder)' : ''}, upload capped at ${UPLOAD_MIB} MiB/s`)
  }
  const [seeder, ...downloaders] = peers

  const source = join(ROOT, 'payload.bin')
  const hash = await randomFile(source, SIZE)
  const shared = await seeder.api.share(source)
  say(`\nshared ${shared.name} (${SIZE / MiB} MiB, ${shared.chunks} chunks)\nlink   ${shared.link}\n`)

  const started = Date.now()
  await Promise.all(downloaders.map((p, i) => p.api.get(shared.link, { output: join(ROOT, `download-${i + 1}`, shared.name) })))
  const final = await showProgress(downloaders, shared.id)
  const seconds = (Date.now() - started) / 1000
  say(`\nall ${DOWNLOADERS} downloads complete in ${seconds.toFixed(1)} s `
    + `(the seeder alone would need ${((DOWNLOADERS * SIZE) / (UPLOAD_MIB * MiB)).toFixed(1)} s; no swarm can beat ${(SIZE / (UPLOAD_MIB * MiB)).toFixed(1)} s)`)
  for (const [i, s] of final.entries()) {
    const ok = (await sha256File(s.path)) === hash
    const fromSeeder = s.sources.find((x) => x.peerId === seeder.peerId)?.chunks ?? 0
    say(`peer ${i + 1}: SHA-256 ${ok ? 'matches' : 'DIFFERS'}; ${fromSeeder} chunks from the seeder, ${s.chunks - fromSeeder} from other downloaders`)
    if (!ok) process.exitCode = 1
  }
  say(`\ntracker stats: ${tracker.statsUrl}`)
  if (args.has('--exit')) return
  say('running until Ctrl-C (then everything is stopped and .shoal-demo removed)')
  await new Promise(() => {}) // the signal handlers below stop everything
}

/** One bar per downloader, refreshed from each daemon's status until all are complete. */
async function showProgress(downloaders: TestPeer[], id: string): Promise<ContentStatus[]> {
  const bars = new cliProgress.MultiBar({
    format: 'peer {n} {bar} {percentage}% | {speed} MiB/s | {peers} peers', hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000,
  }, cliProgress.Presets.shades_classic)
  const rows = downloaders.map((_, i) => bars.create(100, 0, { n: i + 1, speed: '0.0', peers: 0 }))
  try {
    for (;;) {
      const statuses = await Promise.all(downloaders.map((p) => p.api.content(id)))
      statuses.forEach((s, i) => rows[i].update(Math.floor((100 * s.have) / Math.max(1, s.chunks)), {
        speed: (s.downloadRate / MiB).toFixed(1), peers: s.sources.filter((x) => x.connected).length,
      }))
      const failed = statuses.find((s) => s.state === 'failed')
      if (failed !== undefined) throw new Error(`a download failed: ${failed.error}`)
      if (statuses.every((s) => s.state === 'seeding')) return statuses
      await sleep(200)
    }
  } finally {
    bars.stop()
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

// SIGTERM too: `timeout`, service managers and npm itself stop children with it.
let stopping = false
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    stopping = true
    void cleanup.run().then(() => process.exit(code))
  })
}
try {
  await main()
} catch (err) {
  // A Ctrl-C stops the daemons under the demo's feet (a terminal signals the whole group): not a failure.
  if (!stopping) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`)
    process.exitCode = 1
  }
} finally {
  await cleanup.run()
}
