import type { AddressInfo } from 'node:net'
import type { ChunkIndex, ContentKey, ContentStats } from './chunk-index.js'
import { resolveConfig } from './config.js'
import type { TrackerConfig } from './config.js'
import { ContentNames } from './content-names.js'
import { emptyTotals, restoreTotals } from './counters.js'
import type { Totals } from './counters.js'
import { createHttpApp } from './http/app.js'
import { createListener } from './listener.js'
import type { Listener } from './listener.js'
import type { TrackerInit } from './index.js'
import { InFlight } from './in-flight.js'
import { ManifestChecker } from './manifest-checker.js'
import { MemoryChunkIndex } from './memory-index.js'
import { createMetrics } from './metrics.js'
import { PeerSessions } from './peer-sessions.js'
import { SocketServer } from './socket-server.js'
import { StatsSampler } from './stats-sampler.js'
import { TrackerStore } from './store.js'
import type { MostSharedContent, StatsSource, TrackerStats } from './tracker-stats.js'

/** A running tracker: the HTTP server shared by the WebSocket endpoint and the HTTP routes. */
export class Tracker implements StatsSource {
  readonly index: ChunkIndex
  readonly config: TrackerConfig
  private readonly store: TrackerStore
  private readonly sessions: PeerSessions
  private readonly names: ContentNames
  private readonly checker = new ManifestChecker()
  private readonly totals: Totals = emptyTotals()
  private readonly server: Listener
  private socketServer: SocketServer | undefined
  private sampler: StatsSampler | undefined
  private timers: NodeJS.Timeout[] = []
  private startedAt = 0
  private closing: Promise<void> | undefined

  constructor(init: TrackerInit = {}) {
    this.config = resolveConfig(init)
    this.server = createListener(this.config)
    this.store = new TrackerStore(this.config.dataDir)
    const { limits } = this.config
    this.index = new MemoryChunkIndex({
      knownChunkCount: (content) => this.store.chunkCountOf(content),
      maxContentsPerPeer: limits.maxContentsPerPeer,
      maxIndexedChunks: limits.maxIndexedChunks,
      maxChunksPerPeer: limits.maxChunksPerPeer,
      replicationTarget: this.config.replicationTarget,
      banThreshold: limits.banThreshold,
      findScanLimit: limits.findScanLimit,
    })
    this.sessions = new PeerSessions(this.index, this.config.peerIdGraceMs)
    this.names = new ContentNames(this.store, this.checker, 4 * this.config.mostShared)
  }

  /** Opens the store and starts listening; `url` is valid once this resolves. */
  async listen(): Promise<void> {
    const { config, store, totals } = this
    await store.open()
    try {
      Object.assign(totals, restoreTotals(await store.loadTotals()))
      this.server.on('request', createHttpApp(this, createMetrics(this), config.token, config.logger))
      this.socketServer = new SocketServer(this.server, { index: this.index, store, sessions: this.sessions, config, totals, checker: this.checker, publishing: new InFlight() })
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject)
        this.server.listen(config.port, config.host, () => resolve())
      })
    } catch (err) {
      await this.socketServer?.close()
      await store.close()
      throw err
    }
    this.startedAt = performance.now()
    const sampler = new StatsSampler(() => totals.messages, () => this.liveFigures(), config.statsTickMs)
    this.sampler = sampler
    this.every(config.statsTickMs, () => sampler.tick())
    this.every(config.persistIntervalMs, () => this.persistTotals())
    config.logger.info({ url: this.url, statsUrl: `${this.httpUrl}/stats` }, 'tracker listening')
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** The base URL peers are given: ws://host:port, or wss:// with TLS. */
  get url(): string {
    return `${this.config.tls === undefined ? 'ws' : 'wss'}://${this.hostForUrl()}:${this.port}`
  }

  /** http://host:port, or https:// with TLS. */
  get httpUrl(): string {
    return `${this.config.tls === undefined ? 'http' : 'https'}://${this.hostForUrl()}:${this.port}`
  }

  stats(): TrackerStats {
    return {
      time: Date.now(),
      ...this.liveFigures(),
      messagesPerSecond: this.sampler?.messagesPerSecond() ?? 0,
      uptimeSeconds: this.startedAt === 0 ? 0 : Math.floor((performance.now() - this.startedAt) / 1000),
      manifests: this.store.manifestCount,
      manifestBytes: this.store.manifestBytes,
      totals: { ...this.totals },
      recent: this.sampler?.recent() ?? [],
      history: this.sampler?.history() ?? [],
    }
  }

  /** The contents with the most peers online, named where a manifest is stored. */
  async mostShared(): Promise<MostSharedContent[]> {
    const top = this.index.mostShared(this.config.mostShared)
    const names = await this.names.namesOf(top.map((c) => c.content))
    return top.map((c, i) => (names[i] === undefined ? c : { ...c, name: names[i] }))
  }

  /** A content's statistics; a content known only by its manifest shows no peers. */
  contentStats(content: ContentKey): ContentStats | undefined {
    const live = this.index.contentStats(content)
    const chunkCount = this.store.chunkCountOf(content)
    if (live !== undefined || chunkCount === undefined) return live
    return { peers: 0, seeders: 0, chunkCount, availability: { min: 0, mean: 0 }, underReplicatedChunks: chunkCount }
  }

  /** Stops accepting, closes peers with "going away", saves the counters and closes the store. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer)
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    await this.socketServer?.close()
    this.server.closeAllConnections()
    await serverClosed
    await this.checker.close()
    // Counters are loaded by listen(); before that these are not the stored ones.
    if (this.startedAt > 0) await this.persistTotals()
    await this.store.close()
    this.config.logger.info('tracker closed')
  }

  private liveFigures(): { peersOnline: number; contents: number; chunkReplicas: number; connections: number } {
    const { peersOnline, contents, chunkReplicas } = this.index.stats()
    return { peersOnline, contents, chunkReplicas, connections: this.sessions.all.size }
  }

  private every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms)
    timer.unref()
    this.timers.push(timer)
  }

  private async persistTotals(): Promise<void> {
    try {
      await this.store.saveTotals(this.totals)
    } catch (err) {
      this.config.logger.error({ err }, 'could not save counters')
    }
  }

  private hostForUrl(): string {
    return this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host
  }
}
