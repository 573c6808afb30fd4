import type { ChildNode, Cleanup } from '@shoal/testkit'
import { tempDir } from '@shoal/testkit'
import type { TrackerInit } from '@shoal/tracker'
import { startHelper } from './fault-process.js'

/** A tracker child process started with library options (see fault-tracker-main.ts). */
export interface TunedTracker {
  child: ChildNode
  url: string
  httpUrl: string
  stats(): Promise<TrackerStatsView>
}

/** The /stats fields the fault tests read. */
export interface TrackerStatsView {
  peersOnline: number
  contents: number
  chunkReplicas: number
  connections: number
  manifests: number
  totals: Record<string, number>
}

/**
 * Starts a real tracker with options the CLI cannot set (for example a short register
 * timeout), in its own process and a fresh data folder; it is killed at teardown.
 */
export async function startTunedTracker(t: Cleanup, init: Omit<TrackerInit, 'host' | 'logger'> = {}): Promise<TunedTracker> {
  const dataDir = init.dataDir ?? (await tempDir(t, 'shoal-fault-tracker-'))
  const child = startHelper(t, 'fault-tracker-main.js', { port: 0, ...init, dataDir })
  const url = await child.waitForLine((l) => /^tracker (ws:\/\/\S+)$/.exec(l)?.[1], 15_000, 'tuned tracker start')
  const httpUrl = url.replace(/^ws/, 'http')
  return { child, url, httpUrl, stats: () => statsOf(httpUrl) }
}

/** GET /stats of a tracker. */
export async function statsOf(httpUrl: string): Promise<TrackerStatsView> {
  const res = await fetch(`${httpUrl}/stats`)
  if (!res.ok) throw new Error(`GET /stats: ${res.status}`)
  return (await res.json()) as TrackerStatsView
}

/** The tracker's V8 heap in use (bytes), from its Prometheus metrics. */
export async function heapUsedOf(httpUrl: string): Promise<number> {
  const res = await fetch(`${httpUrl}/metrics`)
  const text = await res.text()
  const line = /^shoal_tracker_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text)
  if (line === null) throw new Error('no heap figure in /metrics')
  return Number(line[1])
}
