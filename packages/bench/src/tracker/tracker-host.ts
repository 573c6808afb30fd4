/**
 * Child process that runs one tracker under test and reports its own CPU and memory, so
 * the tracker's figures never mix with the load generator's. Argument: the implementation.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Server from 'bittorrent-tracker/server'
import { createTracker } from '@shoal/tracker'
import type { Implementation, TrackerUsage } from './ipc.js'
import { serve } from './ipc.js'

interface Hosted {
  url: string
  messages(): number | undefined
  /** Builds and serializes the stats body, as GET /stats does (Shoal only). */
  statsBody: (() => string) | undefined
  close(): Promise<void>
}

async function hostShoal(): Promise<Hosted> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-bench-tracker-'))
  // The generator multiplexes a heavy peer's worth of traffic per connection; the
  // per-connection abuse limit would otherwise be what is measured.
  const tracker = createTracker({ host: '127.0.0.1', port: 0, dataDir, limits: { messageRate: 10_000_000, messageBurst: 10_000_000 } })
  await tracker.listen()
  return {
    url: tracker.url,
    messages: () => tracker.stats().totals.messages,
    statsBody: () => JSON.stringify(tracker.stats()),
    close: async () => {
      await tracker.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

async function hostBittorrentTracker(): Promise<Hosted> {
  const server = new Server({ http: false, udp: false, ws: true })
  server.on('warning', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.http?.address() as AddressInfo
  return {
    url: `ws://127.0.0.1:${port}`,
    messages: () => undefined,
    statsBody: undefined,
    // Its close waits for every connection to end; the process is about to exit anyway.
    close: async () => server.close(),
  }
}

const implementation = process.argv[2] as Implementation
const hosted = implementation === 'shoal' ? await hostShoal() : await hostBittorrentTracker()
let peakRss = process.memoryUsage.rss()
setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()) }, 200).unref()

serve(async (message) => {
  if (message.cmd === 'usage') {
    const { rss, heapUsed, external } = process.memoryUsage()
    peakRss = Math.max(peakRss, rss)
    const usage: TrackerUsage = { cpu: process.cpuUsage(), rss, peakRss, heapUsed, external, messages: hosted.messages() }
    return usage
  }
  if (message.cmd === 'stats-cost') {
    const body = hosted.statsBody
    if (body === undefined) return { micros: null }
    const started = performance.now()
    for (let i = 0; i < 200; i++) body()
    return { micros: ((performance.now() - started) * 1000) / 200 }
  }
  if (message.cmd === 'exit') {
    await hosted.close()
    setImmediate(() => process.exit(0))
    return {}
  }
  throw new Error(`unknown command ${message.cmd}`)
})
process.send?.({ url: hosted.url })
