import { binaryFrame, trackerCodec } from '@shoal/protocol'
import type { CloseCode, TrackerReply } from '@shoal/protocol'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import type { IndexPeer } from './chunk-index.js'
import type { TrackerConfig } from './config.js'
import { LastContentKey } from './last-content-key.js'
import type { Totals } from './counters.js'
import { TokenBucket } from './token-bucket.js'

/** Bytes of frame that cost one extra rate token, so large frames (publish) cost more. */
const BYTES_PER_TOKEN = 64 * 1024

/** Chunks a register claims per rate token (the frame itself paid one). */
const CHUNKS_PER_TOKEN = 16 * 1024

/**
 * Unsent reply bytes, in multiples of the limit, at which a connection is cut at once. The
 * sweep closes one that stays over the limit; this bounds what it can pile up before then
 * (a find with chunk lists can answer 6 MB for a 32 KB request).
 */
const CUT_AT_LIMITS = 4

/** One peer connection: who it registered as, its liveness and its abuse budgets. */
export class Session {
  /** Set once a register succeeded; cleared when the session lets go of its index entry. */
  peer: IndexPeer | undefined
  /** The register key that proves ownership of `peer`'s id. */
  secret: Uint8Array | undefined
  readonly connectedAt = performance.now()
  lastSeen = this.connectedAt
  invalid = 0
  /** When the send buffer first went over the limit (0: it is not over). */
  overBufferSince = 0
  closing = false
  /** Index keys of the content ids this connection names, the last one remembered. */
  readonly contentKeys = new LastContentKey()
  private corked = false
  /** The socket's bytesRead when the sweep last looked. */
  private bytesSeen = 0
  /** Costly work queued by this connection (see oneAtATime), and how much of it is pending. */
  private queue: Promise<void> = Promise.resolve()
  private queued = 0
  private readonly messages: TokenBucket
  /** Rejected messages allowed before a flooding connection is closed. */
  private readonly strikes: TokenBucket

  /** `socket` is the upgraded connection under `ws`, corked while a batch of replies is written. */
  constructor(readonly ws: WebSocket, private readonly socket: Socket, readonly address: string, private readonly config: TrackerConfig, private readonly totals: Totals) {
    const { messageRate, messageBurst } = config.limits
    this.messages = new TokenBucket(messageRate, messageBurst)
    this.strikes = new TokenBucket(messageRate, messageBurst)
  }

  /** Takes rate tokens for a frame of `bytes`; false when the connection is over its rate. */
  admit(bytes: number): boolean {
    return this.messages.take(1 + Math.floor(bytes / BYTES_PER_TOKEN))
  }

  /**
   * Runs `work`, index work over `chunks` chunks, if the connection's rate allows it: one
   * token per CHUNKS_PER_TOKEN chunks, about what haves of that many chunks cost, and never
   * more than half the burst, so the largest register a peer may send fits in a full bucket
   * with its frame. Work that throws (a refused register) did nothing, and its tokens are
   * given back. False, and nothing run, when over the rate.
   */
  payForChunks(chunks: number, work: () => void): boolean {
    const tokens = Math.min(this.config.limits.messageBurst / 2, Math.floor(chunks / CHUNKS_PER_TOKEN))
    if (!this.messages.take(tokens)) return false
    try {
      work()
    } catch (err) {
      this.messages.giveBack(tokens)
      throw err
    }
    return true
  }

  /**
   * Runs `work` after this connection's earlier costly work, and stops reading its frames
   * until all of it is done: one connection holds at most one such job and the frames
   * already read, however fast it sends.
   */
  oneAtATime(work: () => Promise<void>): Promise<void> {
    if (this.queued++ === 0) this.ws.pause()
    const done = this.queue.then(work)
    this.queue = done.catch(() => undefined).then(() => {
      if (--this.queued > 0) return
      // The peer was not silent meanwhile: its frames waited unread. Its ttl starts again.
      this.lastSeen = performance.now()
      this.ws.resume()
    })
    return done
  }

  /**
   * Whether costly work of this connection is queued or running. Its frames are not read
   * meanwhile, so its heartbeats wait unread: the ttl does not run out on it.
   */
  get waitingOnWork(): boolean {
    return this.queued > 0
  }

  /**
   * Counts the peer as heard from `now` if bytes arrived since the last look: a large frame
   * (a publish over a slow link) can take longer than the ttl to arrive, and is not silence.
   */
  noteArrivals(now: number): void {
    const read = this.socket.bytesRead
    if (read === this.bytesSeen) return
    this.bytesSeen = read
    this.lastSeen = now
  }

  /** Counts a rejected message; false once rejections persist at more than twice the rate. */
  strike(): boolean {
    return this.strikes.take()
  }

  /**
   * Replies produced while handling one read (often several requests) leave in one write:
   * the socket stays corked until the current tick's work is done. Each reply is framed
   * here and written to the socket directly: the server has no per-message deflate, so ws's
   * sender would only add a second write per reply, and its own frames (close, pong) are
   * whole frames too, so nothing interleaves inside one. `reply` is a message, or a whole
   * WebSocket frame already encoded (see ws-frame).
   */
  send(reply: TrackerReply | Uint8Array): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return
    if (!this.corked) {
      this.corked = true
      this.socket.cork()
      process.nextTick(uncork, this)
    }
    this.socket.write(reply instanceof Uint8Array ? reply : binaryFrame(trackerCodec.encode(reply)))
    const buffered = this.ws.bufferedAmount
    const limit = this.config.limits.maxBufferedBytes
    if (buffered <= limit) return
    if (this.overBufferSince === 0) this.overBufferSince = performance.now()
    if (buffered > CUT_AT_LIMITS * limit) this.cut()
  }

  /** Ends a connection that is not reading its replies: a close frame would only queue behind them. */
  private cut(): void {
    this.totals.slowConsumers++
    this.config.logger.info({ address: this.address, buffered: this.ws.bufferedAmount }, 'connection cut: replies are not being read')
    this.closing = true
    this.ws.terminate()
  }

  uncork(): void {
    this.corked = false
    this.socket.uncork()
  }

  /** Whether the send buffer has stayed over the limit for `forMs`. */
  isSlowConsumer(now: number, forMs: number): boolean {
    if (this.overBufferSince === 0) return false
    if (this.ws.bufferedAmount <= this.config.limits.maxBufferedBytes) {
      this.overBufferSince = 0
      return false
    }
    return now - this.overBufferSince >= forMs
  }

  /** Starts a close handshake and cuts the socket if the peer does not answer in time. */
  close(code: CloseCode, reason: string): void {
    if (this.closing) return
    this.closing = true
    this.ws.close(code, reason)
    setTimeout(() => this.ws.terminate(), this.config.closeGraceMs).unref()
  }
}

function uncork(session: Session): void {
  session.uncork()
}
