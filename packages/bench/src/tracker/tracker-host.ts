/**
 * Child process that runs one tracker under test and reports its own CPU and memory, so
 * the tracker's figures never mix with the load generator's. Argument: the implementation.
 */
import { subscribe } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Server from 'bittorrent-tracker/server'
import { applyTrackerHeapSettings, createTracker } from '@shoal/tracker'
import type { Implementation, TrackerUsage } from './ipc.js'
import { serve } from './ipc.js'
import { startWsFloor } from './ws-floor.js'

interface Hosted {
  url: string
  messages(): number | undefined
  /** Builds and serializes the stats body, as GET /stats does (Shoal only). */
  statsBody: (() => string) | undefined
  close(): Promise<void>
}

async function hostShoal(): Promise<Hosted> {
  // As the shoal-tracker command does.
  applyTrackerHeapSettings()
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-bench-tracker-'))
  // The generator multiplexes a heavy peer's worth of traffic per connection; the
  // per-connection abuse limit would otherwise be what is measured.
  const tracker = createTracker({ host: '127.0.0.1', port: 0, dataDir, limits: { messageRate: 10_000_000, messageBurst: 10_000_000, maxConnectionsPerIp: 0 } })
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
async function hostWsFloor(replyBytes: number): Promise<Hosted> {
  const floor = await startWsFloor(replyBytes)
  return { ...floor, statsBody: undefined }
}

/**
 * Each HTTP request's time inside this process, from the parsed request to the response
 * handed to the socket, by path: what the tracker itself adds to a GET, without the
 * client's side or the machine's scheduling between the two processes.
 */
const serverMillis = new Map<string, number[]>()
const requestStarted = new WeakMap<ServerResponse, number>()
subscribe('http.server.request.start', (message) => {
  requestStarted.set((message as { response: ServerResponse }).response, performance.now())
})
subscribe('http.server.response.finish', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse }
  const started = requestStarted.get(response)
  if (started === undefined) return
  const path = request.url ?? ''
  let times = serverMillis.get(path)
  if (times === undefined) serverMillis.set(path, (times = []))
  times.push(performance.now() - started)
})

const hosted = implementation === 'shoal' ? await hostShoal() : implementation === 'ws-floor' ? await hostWsFloor(Number(process.argv[3])) : await hostBittorrentTracker()
/** The kernel's high-water mark of this process's RSS, where there is one (Linux). */
function kernelPeakRss(): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return kib === null ? undefined : Number(kib[1]) * 1024
  } catch {
    return undefined
  }
}

/**
 * The peak RSS: the kernel's high-water mark, else the largest RSS seen at 200 ms samples
 * (taken only then, so the measured process is not woken for them). Sampling alone misses
 * the peak under load: at 10,000 connections libuv's poll phase can run for seconds, and no
 * timer fires inside it.
 */
let sampledPeakRss = process.memoryUsage.rss()
if (kernelPeakRss() === undefined) setInterval(() => { sampledPeakRss = Math.max(sampledPeakRss, process.memoryUsage.rss()) }, 200).unref()
function peakRss(): number {
  return kernelPeakRss() ?? Math.max(sampledPeakRss, process.memoryUsage.rss())
}

serve(async (message) => {
  if (message.cmd === 'usage') {
    const { rss, heapUsed, external } = process.memoryUsage()
    const usage: TrackerUsage = { cpu: process.cpuUsage(), rss, peakRss: peakRss(), heapUsed, external, messages: hosted.messages() }
    return usage
  }
  if (message.cmd === 'stats-cost') {
    const body = hosted.statsBody
    if (body === undefined) return { micros: null }
    const started = performance.now()
    for (let i = 0; i < 200; i++) body()
    return { micros: ((performance.now() - started) * 1000) / 200 }
  }
  if (message.cmd === 'server-times') {
    const times = Object.fromEntries(serverMillis)
    serverMillis.clear()
    return times
  }
  if (message.cmd === 'exit') {
    await hosted.close()
    setImmediate(() => process.exit(0))
    return {}
  }
  throw new Error(`unknown command ${message.cmd}`)
})
process.send?.({ url: hosted.url })
