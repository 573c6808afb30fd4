import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Test } from 'tap'
import { fromHex } from '@shoal/protocol'
import { randomFile, sha256File, startPeer, startTracker, tempDir } from '@shoal/testkit'
import type { ChildNode } from '@shoal/testkit'
import { checkTracker, checkWire } from './fault-checkers.js'
import type { CheckerResult } from './fault-checkers.js'
import type { FuzzOptions } from './fault-fuzz-main.js'
import type { FuzzTally } from './fault-fuzz-tally.js'
import { craftManifest } from './fault-manifest.js'
import { mib, reportOf, ResourceSampler, rssOf, startHelper } from './fault-process.js'
import { RawTrackerClient } from './fault-tracker-client.js'
import { FAST, isDone, waitContent } from './swarm.js'

export interface FuzzRun {
  frames: number
  seed: number
  /** Most the target's RSS may grow over its size before the fuzz. */
  maxRssGrowth: number
  /** Deadline for the whole fuzz. */
  timeoutMs: number
}

type FuzzReport = FuzzTally & { elapsedMs: number; framesPerSecond: number }

/**
 * Fuzzes a tracker (the shoal-tracker CLI) from a child process while a well-behaved
 * client pair checks every answer it gets, then holds the tracker to: still running,
 * every refused frame answered or the connection closed with a documented code, RSS
 * bounded, the well-behaved clients served correctly and promptly throughout.
 */
export async function fuzzTracker(t: Test, run: FuzzRun): Promise<void> {
  const tracker = await startTracker(t)
  const contents = [16, 300, 1].map((n, i) => craftManifest({ name: `c${i}.bin`, kind: 'file', files: [{ path: `c${i}.bin`, size: n * 16 * 1024 - i }] }))
  const publisher = await RawTrackerClient.connect(tracker.url)
  await publisher.register([])
  for (const c of contents) t.equal((await publisher.request({ type: 'publish', manifest: c.bytes })).type, 'ok', 'manifest published')
  publisher.terminate()
  const checked = { id: contents[0].id, chunkCount: contents[0].chunkCount, manifest: contents[0].bytes }
  await runFuzz(t, tracker.child, run, {
    target: 'tracker', url: tracker.url, contents: contents.map((c) => ({ id: c.idHex, chunkCount: c.chunkCount })),
  }, (stop) => checkTracker(tracker.url, checked, stop))
  const health = await fetch(`${tracker.url.replace(/^ws/, 'http')}/healthz`)
  t.equal(health.status, 200, 'the tracker still answers HTTP')
}

/**
 * Fuzzes a seeding daemon's wire port from a child process while a real daemon downloads
 * the content from it and a raw client fetches and checks chunks, then holds the seeder to
 * the same bar as the tracker, and the download's file to its hash.
 */
export async function fuzzWire(t: Test, run: FuzzRun): Promise<void> {
  const tracker = await startTracker(t)
  const dir = await tempDir(t, 'shoal-fuzz-')
  const file = join(dir, 'payload.bin')
  const hash = await randomFile(file, 8 * 1024 * 1024 + 1000)
  const seeder = await startPeer(t, { trackers: [tracker.url], tuning: FAST, logLevel: 'info' })
  const shared = await seeder.api.share(file, { chunkSize: 64 * 1024 })
  const content = { id: fromHex(shared.id, 32)!, chunkCount: shared.chunks, chunkSize: 64 * 1024, data: await readFile(file) }
  const downloader = await startPeer(t, { trackers: [tracker.url], tuning: FAST })
  const output = join(dir, 'downloaded.bin')
  let download: Promise<unknown> | undefined
  await runFuzz(t, seeder.child, run, {
    target: 'wire', host: '127.0.0.1', port: seeder.port, file,
    content: { id: shared.id, chunkCount: shared.chunks, chunkSize: 64 * 1024 },
  }, (stop) => {
    download = downloader.api.get(shared.link, { output }).then(() => waitContent(downloader, shared.id, isDone, 'download during the fuzz', run.timeoutMs))
    download.catch(() => undefined) // awaited below
    return checkWire('127.0.0.1', seeder.port, content, stop)
  })
  await download
  t.equal(await sha256File(output), hash, 'the daemon downloading from the fuzzed seeder got the right file')
  t.ok(seeder.child.running, 'the seeder still runs')
}

async function runFuzz(t: Test, target: ChildNode, run: FuzzRun, options: Omit<FuzzOptions, 'seed' | 'frames' | 'concurrency' | 'perConnection'>, check: (stop: AbortSignal) => Promise<CheckerResult>): Promise<void> {
  const baseline = await rssOf(target.pid)
  const sampler = new ResourceSampler(target.pid, 250)
  const stop = new AbortController()
  const checking = check(stop.signal)
  // Fail at once if the checker gives up (a hang), not when the fuzz is over.
  const checkerFailed = checking.then(() => new Promise<never>(() => undefined))
  const fuzz = startHelper(t, 'fault-fuzz-main.js', { ...options, seed: run.seed, frames: run.frames, concurrency: Number(process.env.SHOAL_FUZZ_CONCURRENCY ?? 16), perConnection: 300 } satisfies FuzzOptions)
  let report: FuzzReport
  try {
    report = await Promise.race([reportOf<FuzzReport>(fuzz, 'fuzz-report', run.timeoutMs), checkerFailed])
  } finally {
    stop.abort()
    sampler.stop()
  }
  const seen = await checking
  const after = await rssOf(target.pid)
  t.comment(`fuzz seed ${run.seed}: ${report.frames} frames (${JSON.stringify(report.byKind)}) on ${report.connections} connections in ${(report.elapsedMs / 1000).toFixed(1)} s = ${report.framesPerSecond} frames/s`)
  t.comment(`closes ${JSON.stringify(report.closes)}; error codes ${JSON.stringify(report.errorCodes)}; replies ${JSON.stringify(report.replies)}; pieces checked ${report.piecesVerified}`)
  t.comment(`target RSS ${mib(baseline)} before, peak ${mib(sampler.peakRss)}, ${mib(after)} after; peak CPU ${(sampler.peakCpu * 100).toFixed(0)}%`)
  t.comment(`well-behaved client: ${seen.rounds} rounds, slowest ${seen.worstMs.toFixed(0)} ms`)
  t.ok(target.running, 'the target process did not crash')
  t.ok(report.frames >= run.frames, `all ${run.frames} frames were sent`)
  t.same(report.violations, [], `no violations (of ${report.violationCount})`)
  t.ok(sampler.peakRss - baseline <= run.maxRssGrowth, `RSS grew by ${mib(sampler.peakRss - baseline)} at most (limit ${mib(run.maxRssGrowth)})`)
  t.same(seen.wrong, [], 'the well-behaved client got only correct answers')
  t.ok(seen.rounds >= 10, `the well-behaved client kept being served (${seen.rounds} rounds)`)
}
