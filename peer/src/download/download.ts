import { Bitfield, chunkRange, ErrorCode, errorCodeOf, formatPeerAddress, fromHex, MAX_PIECE_HEAD_BYTES, toHex } from '@shoal/protocol'
import type { PeerAddress } from '@shoal/protocol'
import type { LimitFunction } from 'p-limit'
import type { Logger } from 'pino'
import { RateMeter } from '../rate/rate-meter.js'
import type { TokenBucket } from '../rate/token-bucket.js'
import type { ChunkStore, ContentRecord } from '../store/chunk-store.js'
import type { TrackerPool } from '../tracker/tracker-pool.js'
import { BufferPool } from '../wire/buffer-pool.js'
import { WireClient } from '../wire/wire-client.js'
import type { SentRequest } from '../wire/wire-client.js'
import { Scheduler } from './scheduler.js'
import type { ChunkRequest } from './scheduler.js'

export interface DownloadOptions {
  perPeerInflight: number
  requestTimeoutMs: number
  connectTimeoutMs: number
  banAfter: number
  maxPeers: number
  findIntervalMs: number
  maxInvalid: number
  /** Bytes of pieces asked for or waiting to be stored, beyond which requests pause. */
  storeBacklogBytes: number
}

export interface DownloadInit {
  record: ContentRecord
  store: ChunkStore
  peerId: Uint8Array
  trackers: TrackerPool
  /** Sources known without a tracker (a link's peers); their ids are learned on connecting. */
  peers?: PeerAddress[]
  /** Bounds requests in flight across every download of the daemon. */
  limit: LimitFunction
  /** The daemon's download rate limit. */
  bucket: TokenBucket
  options: DownloadOptions
  log: Logger
  onVerified: (chunk: number) => void
  onDone: () => void
  onFailed: (err: Error) => void
}

/** Where a source listens, and when to try it again after a failed connect. */
interface Source {
  host: string
  port: number
  retryAt: number
  failures: number
}

interface Connection {
  key: string
  client: WireClient
  address: string
  chunks: number
  bytes: number
  /** Delivery rate, bytes/s (moving average over back-to-back pieces). */
  rate: number
  lastPieceAt: number
}

interface Outstanding {
  conn: Connection
  req: SentRequest
  release: () => void
}

export interface SourceStatus {
  peerId: string
  address: string
  /** Verified chunks received from it in this run. */
  chunks: number
  /** Bytes received from it, verified or not. */
  bytes: number
  connected: boolean
}

/** A request is retried at a source that failed no sooner than this, doubling per failure. */
const RETRY_BASE_MS = 1000
const RETRY_MAX_MS = 30_000
const FIRST_FIND_DELAY_MS = 250
/** Seconds of a source's delivery rate kept requested from it. */
const QUEUE_SECONDS = 0.5
/** Requests in flight to a source before its rate is known. */
const INITIAL_DEPTH = 2
/** How long a chunk a source refused as busy is fetched elsewhere before asking it again. */
const DEFER_MS = 1000
/** Marks a source known by address only, until its handshake gives its peer id. */
const ADDRESS_KEY = '@'

/**
 * One content being fetched: asks the trackers for sources, keeps wire connections to
 * them, lets the scheduler pick requests, verifies and stores every piece, and reports
 * each verified chunk at once so this peer serves it while still downloading. Sources
 * already known keep being used while no tracker is reachable.
 */
export class Download {
  readonly meter = new RateMeter()
  /** Verified chunks fetched in this run. */
  fetched = 0
  private readonly scheduler: Scheduler
  private readonly content: Uint8Array
  private readonly known = new Map<string, Source>()
  private readonly connections = new Map<string, Connection>()
  /** Every connection of this run, for per-source totals. */
  private readonly seen = new Map<string, Connection>()
  private readonly connecting = new Set<string>()
  private readonly outstanding = new Map<string, Outstanding>()
  private readonly self: string
  private tick: NodeJS.Timeout | undefined
  private findTimer: NodeJS.Timeout | undefined
  /** When the pending timer fires. */
  private findDue = Infinity
  private lastFind = 0
  private findDelay = FIRST_FIND_DELAY_MS / 2
  private stopped = false
  private pumping = false
  private pumpAgain = false
  private readonly halt = new AbortController()
  /** Receive buffers for this content's pieces, shared by its connections. */
  private readonly pool: BufferPool
  /** Pieces received and being verified and stored. */
  private storing = 0
  /**
   * Pieces asked for plus pieces waiting to be stored stay within this many, so a network
   * faster than the disk cannot fill the memory with pieces waiting to be written.
   */
  private readonly maxStoring: number

  constructor(private readonly init: DownloadInit) {
    const { record, options } = init
    this.content = fromHex(record.id, 32)!
    this.self = toHex(init.peerId)
    this.maxStoring = Math.max(2, Math.floor(options.storeBacklogBytes / record.manifest.chunkSize))
    // Shared blocks: the store's hasher reads a piece on its own thread without a copy.
    this.pool = new BufferPool(record.manifest.chunkSize + MAX_PIECE_HEAD_BYTES, this.maxStoring, true)
    this.scheduler = new Scheduler({
      chunkCount: record.have.size, have: record.have, perPeerInflight: options.perPeerInflight, initialInflight: Math.min(INITIAL_DEPTH, options.perPeerInflight),
      requestTimeoutMs: options.requestTimeoutMs, banAfter: options.banAfter, endgameDuplicates: 1, resortMs: 50,
    })
  }

  get complete(): boolean {
    return this.scheduler.complete
  }

  start(): void {
    if (this.finishIfComplete()) return
    for (const p of this.init.peers ?? []) this.learn(`${ADDRESS_KEY}${formatPeerAddress(p)}`, p.host, p.port)
    this.tick = setInterval(() => this.onTick(), Math.min(500, Math.max(20, this.init.options.requestTimeoutMs / 4)))
    void this.find()
  }

  /** A tracker (re)registered: ask it for sources now. */
  trackerUp(): void {
    if (!this.stopped) void this.find()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.halt.abort()
    clearInterval(this.tick)
    clearTimeout(this.findTimer)
    for (const o of this.outstanding.values()) o.release()
    this.outstanding.clear()
    for (const c of this.connections.values()) c.client.close()
    this.connections.clear()
  }

  get peers(): number {
    return this.connections.size
  }

  /** Every source of this run, connected or not. */
  sources(): SourceStatus[] {
    return [...this.seen.values()].map(({ key, address, chunks, bytes }) => ({
      peerId: key, address, chunks, bytes, connected: this.connections.get(key) !== undefined,
    }))
  }

  banned(): string[] {
    return [...this.known.keys()].filter((k) => this.scheduler.isBanned(k))
  }

  private async find(): Promise<void> {
    if (this.stopped) return
    clearTimeout(this.findTimer)
    this.findDue = Infinity
    this.lastFind = Date.now()
    const wanted = Bitfield.full(this.init.record.have.size).andNot(this.init.record.have)
    const clients = this.init.trackers.registered(this.init.record.trackers)
    const replies = await Promise.allSettled(clients.map((c) => c.request({ type: 'find', content: this.content, wanted: wanted.bytes, max: 0, chunks: false })))
    if (this.stopped) return
    let grew = false
    for (const r of replies) {
      if (r.status === 'rejected') {
        this.init.log.debug({ content: this.init.record.id, err: (r.reason as Error).message }, 'find failed')
        continue
      }
      const sources = r.value
      this.init.log.debug({ content: this.init.record.id, sources: sources.peers.map((p) => toHex(p.peerId).slice(0, 6)), rarest: sources.rarest.length }, 'sources found')
      if (sources.rarest.length > 0) this.scheduler.hintRarest(sources.rarest)
      for (const p of sources.peers) if (this.learn(toHex(p.peerId), p.host, p.port)) grew = true
    }
    this.connectMore()
    // Soon after starting, other downloaders hold chunks worth knowing about: ask again
    // after 250 ms, doubling up to the configured interval, but not while each ask still
    // names sources not seen before (a swarm that starts together fills in over seconds).
    this.findDelay = grew ? FIRST_FIND_DELAY_MS : Math.min(this.init.options.findIntervalMs, this.findDelay * 2)
    this.findIn(this.findDelay)
  }

  /** Asks the trackers again within `delayMs` (never sooner than FIRST_FIND_DELAY_MS after the last ask). */
  private findIn(delayMs: number): void {
    if (this.stopped) return
    const due = Math.max(Date.now() + delayMs, this.lastFind + FIRST_FIND_DELAY_MS)
    if (due >= this.findDue) return
    clearTimeout(this.findTimer)
    this.findDue = due
    this.findTimer = setTimeout(() => void this.find(), due - Date.now())
  }

  /** Records where a source listens; true if it was not known before. */
  private learn(key: string, host: string, port: number): boolean {
    if (key === this.self) return false
    const known = this.known.get(key)
    if (known === undefined) this.known.set(key, { host, port, retryAt: 0, failures: 0 })
    else Object.assign(known, { host, port })
    return known === undefined
  }

  private connectMore(): void {
    const now = Date.now()
    for (const [key, source] of this.known) {
      if (this.connections.size + this.connecting.size >= this.init.options.maxPeers) return
      if (this.connections.has(key) || this.connecting.has(key) || this.scheduler.isBanned(key) || source.retryAt > now) continue
      void this.connect(key, source)
    }
  }

  private async connect(key: string, source: Source): Promise<void> {
    this.connecting.add(key)
    let client: WireClient
    try {
      client = await WireClient.connect({
        host: source.host, port: source.port, peerId: this.init.peerId, content: this.content,
        chunkSize: this.init.record.manifest.chunkSize, chunkCount: this.init.record.have.size, timeoutMs: this.init.options.connectTimeoutMs, maxInvalid: this.init.options.maxInvalid,
        pool: this.pool,
      })
    } catch (err) {
      this.retryLater(source)
      this.init.log.debug({ content: this.init.record.id, peer: key, err: (err as Error).message }, 'could not connect to source')
      return
    } finally {
      this.connecting.delete(key)
    }
    const actual = client.remotePeerId
    if (key.startsWith(ADDRESS_KEY)) {
      // Known by address only: the handshake names it from here on.
      this.known.delete(key)
      this.learn(actual, source.host, source.port)
    } else if (actual !== key) {
      // A source must be the peer the tracker named: one claiming another's id could get
      // that peer banned and reported for its own bad data.
      client.close()
      this.retryLater(source)
      this.init.log.warn({ content: this.init.record.id, peer: key, claimed: actual }, 'source claimed another peer id in its handshake; dropped')
      return
    }
    if (this.stopped || actual === this.self || this.connections.has(actual) || !this.scheduler.addPeer(actual, client.bitfield, Date.now())) {
      client.close()
      return
    }
    source.failures = 0
    this.attach({ key: actual, client, address: `${source.host}:${source.port}`, chunks: 0, bytes: 0, rate: 0, lastPieceAt: Date.now() })
  }

  private attach(conn: Connection): void {
    const { key, client } = conn
    this.connections.set(key, conn)
    const before = this.seen.get(key)
    if (before !== undefined) Object.assign(conn, { chunks: before.chunks, bytes: before.bytes })
    this.seen.set(key, conn)
    client.on('have', (chunks) => {
      this.scheduler.peerHas(key, chunks)
      this.pump()
    })
    client.on('piece', (req, data) => void this.onPiece(conn, req, data))
    client.on('bad', (req) => {
      this.finish(key, req.chunk)
      this.onBadData(conn, req.chunk)
    })
    client.on('busy', (req, retryMs) => {
      this.finish(key, req.chunk)
      this.scheduler.busy(key, req.chunk, Date.now(), retryMs)
    })
    client.on('rejected', (req, code) => {
      this.finish(key, req.chunk)
      // Refused as served elsewhere already: the peers that have it are worth finding now.
      if (code === ErrorCode.BUSY) {
        this.scheduler.defer(key, req.chunk, Date.now() + DEFER_MS)
        this.findIn(0)
      }
      else this.scheduler.failed(key, req.chunk, code === ErrorCode.NOT_FOUND ? 'not-held' : 'lost')
      this.pump()
    })
    client.on('activity', () => this.scheduler.heard(key, Date.now()))
    client.on('close', () => this.onClose(conn))
    this.pump()
  }

  private onClose(conn: Connection): void {
    if (this.connections.get(conn.key) !== conn) return
    this.connections.delete(conn.key)
    for (const [k, o] of this.outstanding) {
      if (o.conn !== conn) continue
      o.release()
      this.outstanding.delete(k)
    }
    this.scheduler.removePeer(conn.key)
    const source = this.known.get(conn.key)
    if (source !== undefined) this.retryLater(source)
    if (this.stopped) return
    if (this.connections.size === 0) this.findIn(0)
    this.pump()
  }

  /** Sends what the scheduler picks, within the global in-flight bound and the download limit. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true
      return
    }
    this.pumping = true
    void this.pumpLoop().finally(() => {
      this.pumping = false
    })
  }

  private async pumpLoop(): Promise<void> {
    const { limit, bucket } = this.init
    do {
      this.pumpAgain = false
      while (!this.stopped && !this.scheduler.complete) {
        const budget = Math.min(limit.concurrency - limit.activeCount - limit.pendingCount, this.maxStoring - this.backlog)
        if (budget <= 0) break
        if (bucket.limit > 0) {
          if (!(await this.sendPaced())) break
          continue
        }
        this.sendAll(this.scheduler.plan(Date.now(), budget))
        break
      }
    } while (this.pumpAgain && !this.stopped)
  }

  /**
   * Under a download limit: sends one request once its bytes' worth of tokens is taken. The
   * tokens are taken only when there is a request to send, so a download waiting for
   * sources leaves the shared limit to the others. False when there is none (or the
   * download stopped).
   */
  private async sendPaced(): Promise<boolean> {
    const [next] = this.scheduler.plan(Date.now(), 1)
    if (next === undefined) return false
    // Not in flight while it waits for tokens: that wait must not count against the source.
    this.scheduler.withdraw(next)
    const length = chunkRange(this.init.record.manifest, next.chunk).length
    if (!(await this.init.bucket.take(length, this.halt.signal).then(() => true, () => false))) return false
    this.sendAll(this.scheduler.plan(Date.now(), 1))
    return true
  }

  /** Each connection's requests go out in one write. */
  private sendAll(picked: ChunkRequest[]): void {
    const peers = new Set(picked.map((r) => r.peer))
    for (const peer of peers) this.connections.get(peer)!.client.batch(() => picked.forEach((r) => r.peer === peer && this.send(r)))
  }

  private send(r: ChunkRequest): void {
    const conn = this.connections.get(r.peer)!
    const length = chunkRange(this.init.record.manifest, r.chunk).length
    let released = false
    let free: (() => void) | undefined
    void this.init.limit(() => new Promise<void>((resolve) => (released ? resolve() : (free = resolve))))
    const release = (): void => {
      released = true
      free?.()
    }
    this.outstanding.set(`${r.peer}/${r.chunk}`, { conn, req: conn.client.request(r.chunk, length), release })
  }

  /** The request is answered or abandoned: frees its slot in the global bound. */
  private finish(peer: string, chunk: number): void {
    const k = `${peer}/${chunk}`
    this.outstanding.get(k)?.release()
    this.outstanding.delete(k)
  }

  private cancel(r: ChunkRequest): void {
    const o = this.outstanding.get(`${r.peer}/${r.chunk}`)
    if (o === undefined) return
    o.conn.client.cancel(o.req.id)
    this.finish(r.peer, r.chunk)
  }

  /** Pieces asked for plus pieces being stored: what `maxStoring` bounds. */
  private get backlog(): number {
    return this.storing + this.outstanding.size
  }

  /** The store is done with a piece (has the bytes on disk, or refused them): its buffer can take the next one. */
  private stored(data: Uint8Array): void {
    this.pool.give(data)
    const wasFull = this.backlog >= this.maxStoring
    this.storing--
    if (wasFull) this.pump()
  }

  private async onPiece(conn: Connection, req: SentRequest, data: Uint8Array): Promise<void> {
    this.finish(conn.key, req.chunk)
    conn.bytes += data.length
    this.measure(conn, data.length)
    if (!this.scheduler.received(conn.key, req.chunk, Date.now())) {
      this.pool.give(data)
      this.pump()
      return
    }
    this.storing++
    this.pump()
    try {
      await this.init.store.write(this.init.record.id, req.chunk, data)
    } catch (err) {
      this.stored(data)
      if (errorCodeOf(err) === ErrorCode.HASH_MISMATCH) return this.onBadData(conn, req.chunk)
      this.scheduler.failed(conn.key, req.chunk, 'lost')
      if (!this.stopped) this.init.onFailed(err as Error)
      return
    }
    this.stored(data)
    if (this.stopped) return
    this.fetched++
    conn.chunks++
    this.meter.add(req.length)
    for (const dup of this.scheduler.completed(req.chunk)) this.cancel(dup)
    this.init.onVerified(req.chunk)
    if (!this.finishIfComplete()) this.pump()
  }

  /**
   * Keeps about QUEUE_SECONDS of what a source delivers in flight to it: enough to keep a
   * fast link busy, little enough that a slow or shared uploader is not handed a queue
   * that other sources could serve sooner. A gap counts only when the source had other
   * requests waiting, so idle time does not lower the estimate.
   */
  private measure(conn: Connection, bytes: number): void {
    const now = Date.now()
    if (conn.client.inflight > 0 && now > conn.lastPieceAt) {
      const sample = (bytes * 1000) / (now - conn.lastPieceAt)
      conn.rate = conn.rate === 0 ? sample : 0.7 * conn.rate + 0.3 * sample
      this.scheduler.setDepth(conn.key, 1 + (conn.rate * QUEUE_SECONDS) / this.init.record.manifest.chunkSize)
    }
    conn.lastPieceAt = now
  }

  /**
   * Bad bytes: discarded, counted against the source, which is banned and reported at the
   * limit, once: pieces it had in flight may still fail after the ban.
   */
  private onBadData(conn: Connection, chunk: number): void {
    const bannedBefore = this.scheduler.isBanned(conn.key)
    const banned = this.scheduler.failed(conn.key, chunk, 'bad-data')
    this.init.log.warn({ content: this.init.record.id, peer: conn.key, chunk, banned }, 'source sent bad data')
    if (banned && !bannedBefore) {
      conn.client.close()
      for (const c of this.init.trackers.registered(this.init.record.trackers)) {
        c.request({ type: 'report', content: this.content, peerId: fromHex(conn.key, 16)!, reason: 'chunks failed their hash' })
          .catch((err) => this.init.log.debug({ err: err.message }, 'report failed'))
      }
    }
    this.pump()
  }

  private onTick(): void {
    for (const r of this.scheduler.expire(Date.now())) {
      this.init.log.debug({ content: this.init.record.id, peer: r.peer, chunk: r.chunk }, 'request timed out')
      this.cancel(r)
    }
    this.connectMore()
    this.pump()
  }

  private retryLater(source: Source): void {
    source.failures++
    source.retryAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** (source.failures - 1))
  }

  private finishIfComplete(): boolean {
    if (!this.scheduler.complete) return false
    this.stop()
    this.init.onDone()
    return true
  }
}
