import { join } from 'node:path'
import type { Test } from 'tap'
import { randomFile, startPeer, startTracker, tempDir, waitUntil } from '@shoal/testkit'
import type { TestPeer, TestPeerOptions } from '@shoal/testkit'
import type { ContentStatus } from '@shoal/peer'

/** Short real timings so outages and restarts resolve in seconds. */
export const FAST: Record<string, number> = {
  reconnectInitialMs: 100, reconnectMaxMs: 1000, findIntervalMs: 300, requestTimeoutMs: 3000, heartbeatMs: 1000,
}

export interface SwarmOptions {
  size: number
  chunkSize?: string
  /** Upload limit of the seeder, to keep downloads in progress long enough to act on. */
  seederLimit?: string
}

/** A tracker, a seeder sharing a random file, and a way to add more peers. */
export async function startSwarm(t: Test, options: SwarmOptions) {
  const tracker = await startTracker(t)
  const dir = await tempDir(t, 'shoal-e2e-')
  const peer = (over: TestPeerOptions = {}) => startPeer(t, { trackers: [tracker.url], tuning: FAST, ...over })
  const seeder = await peer({ uploadLimit: options.seederLimit })
  const source = join(dir, 'payload.bin')
  const hash = await randomFile(source, options.size)
  const share = await seeder.cli(['share', source, '--json', '--chunk-size', options.chunkSize ?? '256K'])
  if (share.code !== 0) throw new Error(`share failed: ${share.stderr}`)
  const shared = JSON.parse(share.stdout) as { id: string; link: string; chunks: number; size: number }
  return { tracker, dir, peer, seeder, source, hash, shared }
}

/** Starts `shoal get` through the control API (the daemon does the work). */
export async function startGet(p: TestPeer, link: string, output: string): Promise<ContentStatus> {
  return p.api.get(link, { output })
}

/** Waits until the peer's content matches `ready` (polling its status; bounded). */
export function waitContent(p: TestPeer, id: string, ready: (s: ContentStatus) => boolean, what: string, timeoutMs = 60_000): Promise<ContentStatus> {
  return waitUntil(async () => {
    // Not there yet (a `shoal get` in another process may not have reached the daemon).
    const s = await p.api.content(id).catch((err: { code?: string }) => {
      if (err.code === 'ERR_NOT_FOUND') return undefined
      throw err
    })
    if (s === undefined) return undefined
    if (s.state === 'failed') throw new Error(`${what}: download failed: ${s.error}`)
    return ready(s) ? s : undefined
  }, { timeoutMs, intervalMs: 50, what })
}

export const isDone = (s: ContentStatus) => s.state === 'seeding'
