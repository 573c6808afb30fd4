import {
  bytesEqual, chunkRange, ErrorCode, errorCodeOf, fromHex, manifestChunkCount, PROTOCOL_VERSION, toHex,
} from '@shoal/protocol'
import type { FrameError, HandshakeMessage, PeerGetManifestMessage, PeerMessage, RequestMessage } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { ChunkStore, ContentRecord } from '../store/chunk-store.js'
import type { TokenBucket } from '../rate/token-bucket.js'
import type { BufferPool } from './buffer-pool.js'
import type { FramedSocket } from './framed-socket.js'
import type { SpreadPolicy } from './spread-policy.js'
import type { UploadSlots } from './upload-slots.js'

export interface UploadPolicy {
  /** Invalid frames tolerated (each answered with an error) before the connection is closed. */
  maxInvalid: number
  /** Requests one connection may have queued. */
  maxQueued: number
  /** What a `busy` reply tells the requester to wait. */
  busyRetryMs: number
  /** A reader that takes no bytes this long gives its upload slot to others. */
  yieldMs: number
  /** A reader that takes no bytes this long is disconnected. */
  stallTimeoutMs: number
}

export interface UploadSessionInit {
  socket: FramedSocket
  peerId: Uint8Array
  store: ChunkStore
  slots: UploadSlots<UploadSession>
  spread: SpreadPolicy
  bucket: TokenBucket
  policy: UploadPolicy
  log: Logger
  /** Buffers to read chunks of `chunkSize` into, each given back once the socket has sent it. */
  readPool?: (chunkSize: number) => BufferPool
  /** The other side named a content we serve; false when there is no room for another connection. */
  onOpen: (session: UploadSession) => boolean
  onUploaded: (content: string, bytes: number) => void
}

/**
 * The serving side of one connection: answers the handshake with our bitfield, queues
 * pipelined requests and sends pieces in order through the shared upload limit, tells
 * `have` as we verify more chunks, and answers every bad frame with an error code until
 * the connection's invalid budget is spent.
 */
export class UploadSession {
  content: string | undefined
  remotePeerId: string | undefined
  private record: ContentRecord | undefined
  private readonly queue: RequestMessage[] = []
  private pumping = false
  private invalid = 0
  private activeAt = Date.now()
  /** Waiting, without a slot, for a reader that stopped reading. */
  private parked = false
  /** A manifest reply not yet handed to the kernel: one at a time per connection. */
  private manifestUnsent = false
  private readonly closed = new AbortController()

  constructor(private readonly init: UploadSessionInit) {
    init.socket.on('message', (msg) => this.onMessage(msg))
    init.socket.on('invalid', (err) => this.onInvalid(err.requestId ?? 0, err.code, err.message, err))
    // Replies of any kind piling up unread: the socket closes itself; say why.
    init.socket.on('overflow', (unsent) => this.stalled(`${unsent} bytes would be unsent`))
    init.socket.on('close', () => {
      this.closed.abort()
      this.dequeue(this.queue.length)
      this.queue.length = 0
      this.init.slots.release(this)
    })
  }

  /** Tells the downloader about newly verified chunks. */
  announce(chunks: number[]): void {
    this.init.socket.send({ type: 'have', chunks })
  }

  close(): void {
    this.init.socket.close()
  }

  /** How long nothing has been asked of this connection (0 while it is being served). */
  idleFor(now: number): number {
    return this.pumping || this.queue.length > 0 ? 0 : now - this.activeAt
  }

  private onMessage(msg: PeerMessage): void {
    this.activeAt = Date.now()
    if (msg.type === 'get-manifest') return this.onGetManifest(msg)
    if (this.record === undefined) {
      if (msg.type === 'handshake') this.onHandshake(msg)
      else this.fail(ErrorCode.BAD_MESSAGE, 'handshake first')
      return
    }
    switch (msg.type) {
      case 'request':
        return this.onRequest(msg)
      case 'cancel': {
        const at = this.queue.findIndex((r) => r.id === msg.id)
        if (at === -1) return
        this.queue.splice(at, 1)
        this.dequeue(1)
        return
      }
      case 'error':
        this.init.log.debug({ peer: this.remotePeerId, code: msg.code }, msg.message)
        return
      default:
        this.onInvalid(0, ErrorCode.BAD_MESSAGE, `unexpected ${msg.type}`)
    }
  }

  private onHandshake(msg: HandshakeMessage): void {
    const id = toHex(msg.content)
    const record = this.init.store.get(id)
    if (bytesEqual(msg.peerId, this.init.peerId)) return this.fail(ErrorCode.BAD_MESSAGE, 'connected to itself')
    if (record === undefined || record.paused) return this.fail(ErrorCode.NOT_FOUND, `content ${id} is not served here`)
    this.content = id
    this.remotePeerId = toHex(msg.peerId)
    if (!this.init.onOpen(this)) return this.fail(ErrorCode.BUSY, 'every connection is busy; try again later')
    this.record = record
    this.init.socket.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: this.init.peerId, content: fromHex(id, 32)! })
    this.init.socket.send({ type: 'bitfield', bitfield: record.have.bytes })
  }

  /**
   * Any content held here, handshake or not: a downloader may know nothing but the id. A
   * manifest is up to 10 MiB, so asking again before the last one went out is invalid.
   */
  private onGetManifest(msg: PeerGetManifestMessage): void {
    if (this.manifestUnsent) return this.onInvalid(msg.id, ErrorCode.LIMIT_EXCEEDED, 'the last manifest asked for is still being sent')
    const id = toHex(msg.content)
    const record = this.init.store.get(id)
    if (record === undefined) return this.init.socket.send({ type: 'error', id: msg.id, code: ErrorCode.NOT_FOUND, message: `content ${id} is not held here` })
    this.manifestUnsent = true
    this.init.socket.send({ type: 'manifest', id: msg.id, content: msg.content, manifest: record.manifestBytes }, () => (this.manifestUnsent = false))
  }

  private onRequest(msg: RequestMessage): void {
    const record = this.record!
    const problem = this.checkRequest(record, msg)
    if (problem !== undefined) {
      this.init.socket.send({ type: 'reject', id: msg.id, code: problem[0], message: problem[1] })
      if (problem[0] === ErrorCode.BAD_MESSAGE) this.countInvalid()
      return
    }
    const { slots, spread, socket } = this.init
    if (this.parked || !slots.tryAcquire(this)) {
      socket.send({ type: 'busy', id: msg.id, retryAfterMs: this.init.policy.busyRetryMs })
      return
    }
    if (spread.refuse(record.id, manifestChunkCount(record.manifest), msg.chunk, this.remotePeerId!, this.uploadBound(record))) {
      // Nothing being served here: nobody else would give back the slot just taken.
      if (!this.pumping) slots.release(this)
      socket.send({ type: 'reject', id: msg.id, code: ErrorCode.BUSY, message: 'other chunks are rarer here; fetch this one from a peer that has it' })
      return
    }
    this.queue.push(msg)
    slots.queued++
    void this.pump()
  }

  /**
   * Whether to spread copies: only a complete holder whose upload is the bottleneck (more
   * asked than sent, or a rate limit setting the pace). A partial holder's least-sent chunk
   * may be one it does not hold, so the rule would make it refuse all second copies.
   */
  private uploadBound(record: ContentRecord): boolean {
    return record.have.complete && (this.init.slots.saturated || this.init.bucket.limit > 0)
  }

  private checkRequest(record: ContentRecord, msg: RequestMessage): [ErrorCode, string] | undefined {
    if (!bytesEqual(msg.content, fromHex(record.id, 32)!)) return [ErrorCode.BAD_MESSAGE, 'request names another content']
    if (msg.chunk >= manifestChunkCount(record.manifest)) return [ErrorCode.OUT_OF_RANGE, `no chunk ${msg.chunk}`]
    if (msg.length === 0 || msg.offset + msg.length > chunkRange(record.manifest, msg.chunk).length) {
      return [ErrorCode.OUT_OF_RANGE, 'range is outside the chunk']
    }
    if (this.queue.some((r) => r.id === msg.id)) return [ErrorCode.BAD_MESSAGE, `request id ${msg.id} is already queued`]
    if (this.queue.length >= this.init.policy.maxQueued) return [ErrorCode.LIMIT_EXCEEDED, 'too many queued requests']
    if (!record.have.has(msg.chunk)) return [ErrorCode.NOT_FOUND, `chunk ${msg.chunk} is not held`]
    return undefined
  }

  /** Serves the queue in order, one piece at a time through the shared rate limit. */
  private async pump(): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    const { socket, bucket, store } = this.init
    while (this.queue.length > 0 && !socket.isClosed) {
      const req = this.queue[0]
      if (!(await bucket.take(req.length, this.closed.signal).then(() => true, () => false))) break
      // A cancel while waiting for tokens removed it; the tokens stay spent, which is fine.
      if (this.queue[0] !== req) continue
      this.queue.shift()
      this.dequeue(1)
      // A reused block, not a fresh megabyte per piece: no page faults, no garbage to collect.
      const pool = this.init.readPool?.(this.record!.manifest.chunkSize)
      const block = pool?.take(chunkRange(this.record!.manifest, req.chunk).length)
      const giveBack = (): void => {
        if (block !== undefined) pool!.give(block)
      }
      try {
        const chunk = await store.read(this.content!, req.chunk, block)
        socket.sendPiece({ id: req.id, chunk: req.chunk, offset: req.offset, data: chunk.subarray(req.offset, req.offset + req.length) }, giveBack)
        this.init.onUploaded(this.content!, req.length)
      } catch (err) {
        giveBack()
        socket.send({ type: 'reject', id: req.id, code: errorCodeOf(err), message: 'chunk could not be read' })
      }
      if (!(await this.drain())) break
    }
    this.init.slots.release(this)
    this.pumping = false
    this.activeAt = Date.now()
  }

  /**
   * Waits for the socket to take what was sent. A reader that takes nothing for `yieldMs`
   * parks and gives up its slot (it gets it back once it reads again, or `busy` for the
   * rest of its queue); one that takes nothing for `stallTimeoutMs` is disconnected.
   */
  private async drain(): Promise<boolean> {
    const { socket, slots, policy } = this.init
    if (await socket.drained(policy.yieldMs)) return true
    this.parked = true
    slots.park(this)?.stalled('too many stalled readers')
    const resumed = await socket.drained(policy.stallTimeoutMs - policy.yieldMs)
    this.parked = false
    if (!resumed) {
      this.stalled(`took no bytes for ${policy.stallTimeoutMs} ms`)
      return false
    }
    if (socket.isClosed || slots.tryAcquire(this)) return true
    for (const req of this.queue) socket.send({ type: 'busy', id: req.id, retryAfterMs: policy.busyRetryMs })
    this.dequeue(this.queue.length)
    this.queue.length = 0
    return false
  }

  /** Drops a connection whose reader stopped reading. */
  private stalled(why: string): void {
    if (this.init.socket.isClosed) return
    this.init.log.warn({ peer: this.remotePeerId, address: this.init.socket.remoteAddress, content: this.content }, `peer stopped reading (${why}); connection closed`)
    this.init.socket.destroy()
  }

  private dequeue(n: number): void {
    this.init.slots.queued -= n
  }

  private onInvalid(id: number, code: string, message: string, err?: FrameError): void {
    this.init.log.debug({ peer: this.remotePeerId, code, err }, 'invalid frame')
    this.init.socket.send({ type: 'error', id, code, message: message.slice(0, 500) })
    this.countInvalid()
  }

  private countInvalid(): void {
    if (++this.invalid > this.init.policy.maxInvalid) this.init.socket.close()
  }

  /** Says why and hangs up. */
  private fail(code: ErrorCode, message: string): void {
    this.init.socket.send({ type: 'error', id: 0, code, message })
    this.init.socket.close()
  }
}
