import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CleanupStack, sha256File, startPeer, startTracker, waitUntil } from '@shoal/testkit'
import type { TestPeer, TestTracker } from '@shoal/testkit'
import { processCpuSeconds } from './cpu.js'

export interface SwarmPlan {
  /** Folder for the source file and the downloads. */
  dir: string
  source: string
  /** SHA-256 of the source, hex; each download is checked against it when `checkFiles`. */
  sourceHash: string
  downloaders: number
  chunkSize: number
  /** Every peer's upload limit (RATE string); none when absent. */
  uploadLimit?: string
  checkFiles: boolean
  /**
   * A file the same peers first transfer among themselves, unmeasured, then remove: daemons
   * as they are after running a while, their hot code compiled. (Fresh, every one of many
   * processes on two cores compiles it inside the measured window.)
   */
  warmUpSource?: string
}

export interface SwarmResult {
  /** From the first `get` to the last download verified complete. */
  seconds: number
  /** CPU seconds during the transfer. */
  seederCpu: number
  downloaderCpu: number[]
  /** Chunks the seeder uploaded, counted by the downloaders (a chunk sent twice counts twice). */
  chunksFromSeeder: number
  chunks: number
  /** `have` and `find` messages the tracker received during the transfer: the daemons' real mix. */
  trackerHaves: number
  trackerFinds: number
}

/** The tracker's cumulative have and find counts. */
async function haveAndFind(tracker: TestTracker): Promise<{ have: number; find: number }> {
  const { totals } = (await tracker.stats()) as unknown as { totals: { have: number; find: number } }
  return { have: totals.have, find: totals.find }
}

/**
 * One transfer with real processes: a tracker, a seeder sharing `source` and N
 * downloaders fetching it at once. Timing comes from the daemons' own log lines
 * ("download complete"), so no polling adds to it.
 */
export async function runSwarm(plan: SwarmPlan): Promise<SwarmResult> {
  const cleanup = new CleanupStack()
  try {
    const tracker = await startTracker(cleanup)
    const options = { trackers: [tracker.url], uploadLimit: plan.uploadLimit, maxUploads: Math.max(8, plan.downloaders) }
    const [seeder, ...downloaders] = await Promise.all(Array.from({ length: plan.downloaders + 1 }, () => startPeer(cleanup, options)))
    await waitUntil(async () => (await tracker.stats()).peersOnline === plan.downloaders + 1, { what: 'every peer registered' })
    if (plan.warmUpSource !== undefined) await warmDaemons(plan, seeder, downloaders)
    const shared = await seeder.api.share(plan.source, { chunkSize: plan.chunkSize })
    const outputs = downloaders.map((_, i) => join(plan.dir, `download-${i}.bin`))
    cleanup.teardown(() => Promise.all(outputs.map((o) => rm(o, { force: true }))))
    const cpu0 = [seeder, ...downloaders].map((p) => processCpuSeconds(p.child.pid))
    const messages0 = await haveAndFind(tracker)
    const started = Date.now()
    await Promise.all(downloaders.map((d, i) => d.api.get(shared.link, { output: outputs[i] })))
    const finished = await Promise.all(downloaders.map((d) => completedAt(d, shared.id)))
    const seconds = (Math.max(...finished) - started) / 1000
    const cpu = [seeder, ...downloaders].map((p, i) => processCpuSeconds(p.child.pid) - cpu0[i])
    const messages = await haveAndFind(tracker)
    let chunksFromSeeder = 0
    for (const [i, d] of downloaders.entries()) {
      const status = await d.api.content(shared.id)
      if (status.have !== shared.chunks) throw new Error(`downloader ${i} finished with ${status.have} of ${shared.chunks} chunks`)
      chunksFromSeeder += status.sources.find((s) => s.peerId === seeder.peerId)?.chunks ?? 0
      if (plan.checkFiles && (await sha256File(outputs[i])) !== plan.sourceHash) throw new Error(`downloader ${i} wrote different bytes`)
    }
    return {
      seconds, seederCpu: cpu[0], downloaderCpu: cpu.slice(1), chunksFromSeeder, chunks: shared.chunks,
      trackerHaves: messages.have - messages0.have, trackerFinds: messages.find - messages0.find,
    }
  } finally {
    await cleanup.run()
  }
}

/** Every downloader fetches the warm-up file from the seeder and the others; then all drop it. */
async function warmDaemons(plan: SwarmPlan, seeder: TestPeer, downloaders: TestPeer[]): Promise<void> {
  const shared = await seeder.api.share(plan.warmUpSource!, { chunkSize: plan.chunkSize })
  const outputs = downloaders.map((_, i) => join(plan.dir, `warm-up-${i}.bin`))
  await Promise.all(downloaders.map((d, i) => d.api.get(shared.link, { output: outputs[i] })))
  await Promise.all(downloaders.map((d) => completedAt(d, shared.id)))
  await Promise.all(downloaders.map((d) => d.api.remove(shared.id, true)))
  await seeder.api.remove(shared.id)
}

/** The `time` of the daemon's "download complete" line for the content. */
function completedAt(peer: TestPeer, id: string): Promise<number> {
  return peer.child.waitForLine((line) => {
    if (!line.includes('download complete')) return undefined
    const entry = JSON.parse(line) as { msg?: string; content?: string; time?: number }
    return entry.msg === 'download complete' && entry.content === id ? entry.time : undefined
  }, 600_000, 'download complete')
}
