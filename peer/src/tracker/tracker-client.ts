import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import {
  CloseCode, ErrorCode, isErrorCode, MAX_CHUNK_LIST, MAX_REQUEST_ID, MAX_TRACKER_FRAME, PROTOCOL_VERSION, ShoalError, toHex,
  trackerCodec,
} from '@shoal/protocol'
import type { FrameError, HeldContent, TrackerMessage, TrackerReply, TrackerRequest } from '@shoal/protocol'
import type { Logger } from 'pino'
import { Backoff } from './backoff.js'
import type { BackoffInit } from './backoff.js'

export interface TrackerClientInit {
  url: string
  peerId: Uint8Array
  key: Uint8Array
  /** Our peer-wire port, announced to the tracker. */
  port: number
  /** The tracker token, or what decides it at each register (whether this tracker is trusted with it). */
  token?: string | (() => string | undefined)
  /** CA certificates a wss:// tracker's certificate is checked against; Node's default when absent. */
  ca?: string[]
  /** Everything we hold for this tracker, sent in full on every (re)register. */
  contents: () => HeldContent[]
  /** Canonical manifests to publish after every register (a restarted tracker may have lost them). */
  manifests: () => Uint8Array[]
  /** Upload load 0..1 for heartbeats. */
  load: () => number
  backoff: BackoffInit
  requestTimeoutMs: number
  /** Overrides the heartbeat interval the tracker implies (ttl / 3). */
  heartbeatMs?: number
  /** `have`s are coalesced over this long. */
  haveDelayMs: number
  log: Logger
}

/** connecting → registered → (closed) → waiting → connecting …; `stopped` is final. */
export type TrackerState = 'connecting' | 'registered' | 'waiting' | 'stopped' | 'closed'

export interface TrackerClientEvents {
  registered: [{ address: string; ttl: number }]
  down: [string]
  /** The tracker refused us for good (bad token); no more reconnects. */
  stopped: [string]
}

/** A request before it gets its id. */
type Request = TrackerRequest extends infer M ? (M extends TrackerRequest ? Omit<M, 'id'> : never) : never

/** The requests this client waits on, each with the one reply type that answers it. */
const REPLY_TYPES = { publish: 'ok', 'get-manifest': 'manifest', find: 'sources', report: 'ok', unregister: 'ok' } as const
type AskedRequest = Extract<Request, { type: keyof typeof REPLY_TYPES }>
type ReplyTo<R extends AskedRequest> = Extract<TrackerReply, { type: (typeof REPLY_TYPES)[R['type']] }>

interface Pending {
  /** The reply type that answers the request; any other (but `error`) is the tracker's fault. */
  expects: TrackerReply['type']
  resolve: (reply: TrackerReply) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The heartbeat interval a tracker's ttl implies (ttl / 3) is kept within these: a huge ttl
 * would overflow the timer, which then fires every millisecond, and a tracker that died
 * without closing is still noticed within two intervals.
 */
const MIN_HEARTBEAT_MS = 1000
const MAX_HEARTBEAT_MS = 10 * 60_000

/** What Node's TLS says when it does not trust a server's certificate chain. */
const TLS_TRUST_FAILURE = /certificate|self[- ]signed/i

/** Close codes after which reconnecting cannot help. */
const FINAL_CLOSES = new Set<number>([CloseCode.AUTH_FAILED])

/**
 * One tracker connection that keeps itself alive: registers our full state on every
 * connect, heartbeats, forwards `have`s, and after any drop reconnects with jittered
 * exponential backoff — except when the tracker refused us for good (4002). When another
 * key holds our peer id (4006) it keeps trying, but slowly: the holder may be a squatter
 * that leaves, or our own previous connection whose reservation runs out.
 */
export class TrackerClient extends EventEmitter<TrackerClientEvents> {
  state: TrackerState = 'waiting'
  /** Why the last connection failed or ended. */
  lastError: string | undefined
  private ws: WebSocket | undefined
  /** Reconnect delays; reset once a connection has stayed up for `backoff.maxMs`. */
  private readonly backoff: Backoff
  /** Delays before a refused resync is sent again; reset by an accepted one. */
  private readonly resyncBackoff: Backoff
  private stableTimer: NodeJS.Timeout | undefined
  private registerTimer: NodeJS.Timeout | undefined
  /** The tracker's error reply to this connection's first register, if it sent one. */
  private registerRefusal: string | undefined
  private readonly pending = new Map<number, Pending>()
  private readonly haves = new Map<string, { content: Uint8Array; chunks: Set<number> }>()
  private haveTimer: NodeJS.Timeout | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private resyncTimer: NodeJS.Timeout | undefined
  private heartbeat: NodeJS.Timeout | undefined
  private nextId = 1
  private registerId = 0
  private alive = true
  /** Set by close(): frames still in flight on the old socket must not revive the client. */
  private closing = false

  constructor(private readonly init: TrackerClientInit) {
    super()
    this.backoff = new Backoff(init.backoff)
    this.resyncBackoff = new Backoff(init.backoff)
  }

  get url(): string {
    return this.init.url
  }

  get registered(): boolean {
    return this.state === 'registered'
  }

  start(): void {
    if (this.state === 'waiting' && this.retryTimer === undefined) this.connect()
  }

  /**
   * Resolves once registered. Between attempts it tries again at once rather than wait out
   * the backoff (someone is waiting now). Rejects if the tracker refused us for good, or when
   * the attempt fails or `timeoutMs` passes.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.state === 'registered') return Promise.resolve()
    if (this.state === 'waiting') {
      clearTimeout(this.retryTimer)
      this.connect()
    }
    if (this.state !== 'connecting') return Promise.reject(this.unreachable())
    return new Promise((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer)
        this.off('registered', onUp)
        this.off('down', onDown)
        this.off('stopped', onDown)
        if (err === undefined) resolve()
        else reject(err)
      }
      const onUp = (): void => done()
      const onDown = (): void => done(this.unreachable())
      const timer = setTimeout(() => done(new ShoalError(ErrorCode.TIMEOUT, `cannot reach tracker ${this.url}: no answer in time`)), timeoutMs)
      this.on('registered', onUp)
      this.on('down', onDown)
      this.on('stopped', onDown)
    })
  }

  /**
   * Sends a request and resolves with its reply; an `error` reply rejects with its code, and
   * so does a reply of another type than the request's (ERR_BAD_MESSAGE): what a tracker
   * sends is checked before anyone reads it.
   */
  request<R extends AskedRequest>(msg: R): Promise<ReplyTo<R>> {
    if (!this.registered) return Promise.reject(new ShoalError(ErrorCode.NOT_REGISTERED, `not connected to ${this.url}`))
    const id = this.newId()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new ShoalError(ErrorCode.TIMEOUT, `${this.url} did not answer ${msg.type} in time`))
      }, this.init.requestTimeoutMs)
      this.pending.set(id, { expects: REPLY_TYPES[msg.type], resolve: resolve as (reply: TrackerReply) => void, reject, timer })
      this.send({ ...msg, id } as TrackerRequest)
    })
  }

  /** Registers again with the full current state (contents were added or removed). */
  resync(): void {
    clearTimeout(this.resyncTimer)
    this.resyncTimer = undefined
    if (this.registered) this.register()
  }

  private resyncLater(): void {
    clearTimeout(this.resyncTimer)
    const delay = this.resyncBackoff.next()
    this.init.log.warn({ tracker: this.url, reason: this.lastError, retryMs: delay }, 'tracker refused a resync; sending it again')
    this.resyncTimer = setTimeout(() => this.resync(), delay)
  }

  /** Queues newly verified chunks; they go out together after a short delay. */
  have(content: Uint8Array, chunks: number[]): void {
    if (!this.registered) return
    const key = toHex(content)
    let entry = this.haves.get(key)
    if (entry === undefined) this.haves.set(key, (entry = { content, chunks: new Set() }))
    for (const c of chunks) entry.chunks.add(c)
    this.haveTimer ??= setTimeout(() => this.flushHaves(), this.init.haveDelayMs)
  }

  close(): void {
    if (this.closing) return
    this.closing = true
    this.state = 'closed'
    clearTimeout(this.retryTimer)
    this.teardown('closing')
    this.ws?.close(CloseCode.GOING_AWAY)
    this.lastError ??= 'closed'
    // Whoever waits in ready() learns now, not at its timeout.
    this.emit('down', 'closed')
  }

  private connect(): void {
    this.retryTimer = undefined
    this.state = 'connecting'
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false, maxPayload: MAX_TRACKER_FRAME, handshakeTimeout: this.init.requestTimeoutMs, ca: this.init.ca,
    })
    this.ws = ws
    ws.binaryType = 'nodebuffer'
    ws.on('open', () => this.register())
    ws.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary))
    ws.on('pong', () => (this.alive = true))
    ws.on('error', (err) => (this.lastError = err.message))
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()))
  }

  private register(): void {
    // A tracker that never answers the first register of a connection (or refuses it and
    // keeps the socket open) must not hold the client in `connecting`: drop it and back off.
    if (this.state !== 'registered') {
      clearTimeout(this.registerTimer)
      this.registerRefusal = undefined
      this.registerTimer = setTimeout(() => {
        this.lastError = this.registerRefusal ?? 'no answer to register'
        this.ws?.terminate()
      }, this.init.requestTimeoutMs)
    }
    this.registerId = this.newId()
    this.haves.clear()
    const { peerId, key, port } = this.init
    const token = typeof this.init.token === 'function' ? this.init.token() : this.init.token
    this.send({ type: 'register', id: this.registerId, version: PROTOCOL_VERSION, peerId, key, port, token, contents: this.init.contents() })
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closing) return
    let msg: TrackerMessage
    try {
      if (!isBinary) throw new ShoalError(ErrorCode.BAD_MESSAGE, 'text frame')
      msg = trackerCodec.decode(data)
    } catch (err) {
      this.init.log.warn({ tracker: this.url, code: (err as FrameError).code }, 'tracker sent an invalid frame')
      return
    }
    if (msg.type === 'registered' && msg.id === this.registerId) return this.onRegistered(msg.address, msg.ttl)
    if (msg.type === 'error' && msg.id === this.registerId) {
      this.lastError = this.registerRefusal = `${msg.code}: ${msg.message}`
      // A refused resync (too many chunks too soon) leaves the tracker with the state before: send it again later.
      if (this.state === 'registered') this.resyncLater()
      return
    }
    const pending = 'id' in msg ? this.pending.get(msg.id) : undefined
    if (pending === undefined) return
    this.pending.delete(msg.id)
    clearTimeout(pending.timer)
    if (msg.type === 'error') pending.reject(new ShoalError(isErrorCode(msg.code) ? msg.code : ErrorCode.INTERNAL, msg.message))
    else if (msg.type === pending.expects) pending.resolve(msg as TrackerReply)
    else {
      this.init.log.warn({ tracker: this.url, expected: pending.expects, got: msg.type }, 'tracker answered with the wrong reply type')
      pending.reject(new ShoalError(ErrorCode.BAD_MESSAGE, `${this.url} answered ${msg.type} where ${pending.expects} was due`))
    }
  }

  private onRegistered(address: string, ttl: number): void {
    const first = this.state !== 'registered'
    this.state = 'registered'
    this.lastError = undefined
    clearTimeout(this.registerTimer)
    this.resyncBackoff.reset()
    if (first) {
      // Only a connection that stays up earns quick reconnects: a tracker (or a proxy) that
      // accepts and then drops every connection gets the backoff, not a storm of full registers.
      clearTimeout(this.stableTimer)
      this.stableTimer = setTimeout(() => this.backoff.reset(), this.init.backoff.maxMs)
      this.stableTimer.unref()
      this.startHeartbeat(ttl)
      for (const manifest of this.init.manifests()) {
        this.request({ type: 'publish', manifest }).catch((err) => this.init.log.warn({ tracker: this.url, err: err.message }, 'publish failed'))
      }
    }
    this.init.log.info({ tracker: this.url, address, ttl }, 'registered with tracker')
    this.emit('registered', { address, ttl })
  }

  private startHeartbeat(ttl: number): void {
    clearInterval(this.heartbeat)
    this.alive = true
    this.heartbeat = setInterval(() => {
      // A tracker that stopped answering pings is gone even if the socket looks open.
      if (!this.alive) return this.ws?.terminate()
      this.alive = false
      this.ws?.ping()
      this.send({ type: 'heartbeat', id: this.newId(), load: Math.min(1, Math.max(0, this.init.load())) })
    }, this.init.heartbeatMs ?? Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, (ttl * 1000) / 3)))
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return
    const wasRegistered = this.state === 'registered'
    this.teardown(reason || `closed (${code})`)
    if (this.closing) return
    if (reason !== '' || this.lastError === undefined) this.lastError = reason || `connection closed (${code})`
    if (FINAL_CLOSES.has(code)) {
      this.state = 'stopped'
      this.init.log.error({ tracker: this.url, code, reason: this.lastError }, 'tracker refused this peer; not reconnecting')
      this.emit('stopped', this.lastError)
      return
    }
    this.state = 'waiting'
    const delay = code === CloseCode.PEER_ID_TAKEN ? this.slowRetryMs() : this.backoff.next()
    if (code === CloseCode.PEER_ID_TAKEN) {
      this.init.log.warn({ tracker: this.url, code, reason: this.lastError, retryMs: delay }, 'another key holds this peer id on the tracker; retrying slowly')
    } else {
      // A certificate the daemon does not trust will not fix itself by retrying: a person must act (--ca).
      const level = TLS_TRUST_FAILURE.test(this.lastError) ? 'warn' : 'info'
      this.init.log[level]({ tracker: this.url, code, reason: this.lastError, retryMs: delay, wasRegistered }, 'tracker connection lost')
    }
    this.retryTimer = setTimeout(() => this.connect(), delay)
    this.emit('down', this.lastError)
  }

  /** Between half the longest backoff and the longest, jittered like the backoff itself. */
  private slowRetryMs(): number {
    const longest = this.init.backoff.maxMs
    return Math.floor(longest / 2 + this.backoff.next() / 2)
  }

  private teardown(why: string): void {
    clearInterval(this.heartbeat)
    clearTimeout(this.stableTimer)
    clearTimeout(this.registerTimer)
    clearTimeout(this.resyncTimer)
    this.resyncTimer = undefined
    clearTimeout(this.haveTimer)
    this.haveTimer = undefined
    this.haves.clear()
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.reject(new ShoalError(ErrorCode.NOT_REGISTERED, `tracker connection ended: ${why}`))
    }
    this.pending.clear()
  }

  private flushHaves(): void {
    this.haveTimer = undefined
    for (const { content, chunks } of this.haves.values()) {
      const list = [...chunks]
      for (let at = 0; at < list.length; at += MAX_CHUNK_LIST) {
        this.send({ type: 'have', id: this.newId(), content, chunks: list.slice(at, at + MAX_CHUNK_LIST) })
      }
    }
    this.haves.clear()
  }

  private send(msg: TrackerRequest): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(trackerCodec.encode(msg))
  }

  private newId(): number {
    const id = this.nextId
    this.nextId = this.nextId >= MAX_REQUEST_ID ? 1 : this.nextId + 1
    return id
  }

  private unreachable(detail?: string): ShoalError {
    return new ShoalError(ErrorCode.UNREACHABLE, `cannot reach tracker ${this.url}: ${detail ?? this.lastError ?? 'not connected'}`)
  }
}
