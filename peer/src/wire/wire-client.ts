import { EventEmitter } from 'node:events'
import { connect } from 'node:net'
import { Bitfield, ErrorCode, isErrorCode, maxPeerServerFrame, PROTOCOL_VERSION, ShoalError, toHex } from '@shoal/protocol'
import type { PeerMessage } from '@shoal/protocol'
import type { BufferPool } from './buffer-pool.js'
import { FrameReader } from './frame-reader.js'
import { FramedSocket } from './framed-socket.js'

export interface WireClientInit {
  host: string
  port: number
  peerId: Uint8Array
  content: Uint8Array
  chunkSize: number
  chunkCount: number
  /** Connect plus handshake must finish this soon. */
  timeoutMs: number
  /** Invalid frames tolerated before hanging up. */
  maxInvalid: number
  /**
   * Pieces are read into blocks of this pool; the receiver of a 'piece' gives the block
   * back once it no longer reads the data (a piece not handed on goes back at once).
   * Without one, every piece gets a fresh buffer.
   */
  pool?: BufferPool
}

/** A request this side sent: always a whole chunk. */
export interface SentRequest {
  id: number
  chunk: number
  length: number
}

export interface WireClientEvents {
  have: [number[]]
  piece: [SentRequest, Uint8Array]
  /** The piece does not answer its request (wrong chunk, offset or length). */
  bad: [SentRequest]
  busy: [SentRequest, number]
  rejected: [SentRequest, string]
  activity: []
  close: [Error | undefined]
}

/**
 * The downloading side of one connection to one peer for one content: handshake, the
 * peer's bitfield and `have`s, pipelined whole-chunk requests matched to their pieces.
 */
export class WireClient extends EventEmitter<WireClientEvents> {
  remotePeerId = ''
  bitfield: Bitfield
  private readonly outstanding = new Map<number, SentRequest>()
  private nextId = 1
  private invalid = 0

  private constructor(private readonly socket: FramedSocket, private readonly init: WireClientInit) {
    super()
    this.bitfield = new Bitfield(init.chunkCount)
  }

  /** Connects and completes the handshake; rejects with the peer's error code if it refuses. */
  static async connect(init: WireClientInit): Promise<WireClient> {
    // Frames no longer than this content's pieces and haves: a partial frame holds no more.
    const reader = new FrameReader(maxPeerServerFrame(init.chunkSize, init.chunkCount), init.pool)
    const socket = new FramedSocket(connect({ host: init.host, port: init.port, onread: reader.onread }), { reader })
    const client = new WireClient(socket, init)
    await client.handshake()
    return client
  }

  get inflight(): number {
    return this.outstanding.size
  }

  get closed(): boolean {
    return this.socket.isClosed
  }

  request(chunk: number, length: number): SentRequest {
    const req = { id: this.nextId++, chunk, length }
    this.outstanding.set(req.id, req)
    this.socket.send({ type: 'request', id: req.id, content: this.init.content, chunk, offset: 0, length })
    return req
  }

  /** Sends whatever `fn` sends in one write: one syscall for a batch of requests. */
  batch(fn: () => void): void {
    this.socket.socket.cork()
    try {
      fn()
    } finally {
      this.socket.socket.uncork()
    }
  }

  cancel(id: number): void {
    if (this.outstanding.delete(id)) this.socket.send({ type: 'cancel', id })
  }

  close(): void {
    this.socket.destroy()
  }

  private handshake(): Promise<void> {
    const { socket, init } = this
    return new Promise<void>((resolve, reject) => {
      let shook = false
      const timer = setTimeout(() => fail(new ShoalError(ErrorCode.INTERNAL, 'peer did not complete the handshake in time')), init.timeoutMs)
      const fail = (err: Error): void => {
        clearTimeout(timer)
        socket.destroy()
        reject(err)
      }
      const onMessage = (msg: PeerMessage): void => {
        if (msg.type === 'error') return fail(new ShoalError(isErrorCode(msg.code) ? msg.code : ErrorCode.INTERNAL, msg.message))
        if (!shook && msg.type === 'handshake') {
          this.remotePeerId = toHex(msg.peerId)
          shook = true
          return
        }
        if (!shook || msg.type !== 'bitfield') return fail(new ShoalError(ErrorCode.BAD_MESSAGE, `unexpected ${msg.type} in handshake`))
        try {
          this.bitfield = Bitfield.fromWire(init.chunkCount, msg.bitfield)
        } catch (err) {
          return fail(err as Error)
        }
        clearTimeout(timer)
        socket.off('message', onMessage)
        socket.off('close', onEarlyClose)
        this.attach()
        resolve()
      }
      const onEarlyClose = (err?: Error): void => fail(err ?? new ShoalError(ErrorCode.INTERNAL, 'peer closed the connection'))
      socket.on('message', onMessage)
      socket.on('close', onEarlyClose)
      socket.socket.once('connect', () => socket.send({ type: 'handshake', version: PROTOCOL_VERSION, peerId: init.peerId, content: init.content }))
    })
  }

  private attach(): void {
    this.socket.on('message', (msg) => this.onMessage(msg))
    this.socket.on('invalid', () => this.countInvalid())
    this.socket.on('activity', () => this.emit('activity'))
    this.socket.on('close', (err) => this.emit('close', err))
  }

  private onMessage(msg: PeerMessage): void {
    switch (msg.type) {
      case 'have': {
        const valid = msg.chunks.filter((c) => c < this.init.chunkCount)
        if (valid.length < msg.chunks.length) this.countInvalid()
        for (const c of valid) this.bitfield.set(c)
        this.emit('have', valid)
        return
      }
      case 'piece': {
        const req = this.take(msg.id)
        if (req !== undefined && msg.chunk === req.chunk && msg.offset === 0 && msg.data.length === req.length) return void this.emit('piece', req, msg.data)
        // Late, cancelled or wrong: not handed on, so its block can take the next piece.
        this.init.pool?.give(msg.data)
        if (req !== undefined) this.emit('bad', req)
        return
      }
      case 'busy': {
        const req = this.take(msg.id)
        if (req !== undefined) this.emit('busy', req, msg.retryAfterMs)
        return
      }
      case 'reject': {
        const req = this.take(msg.id)
        if (req !== undefined) this.emit('rejected', req, msg.code)
        return
      }
      case 'error':
        return
      default:
        this.countInvalid()
    }
  }

  /** The outstanding request a reply answers; a reply to nothing we asked counts as invalid. */
  private take(id: number): SentRequest | undefined {
    const req = this.outstanding.get(id)
    // A cancelled request may still be answered; that is not the peer's fault.
    if (req === undefined) {
      if (id >= this.nextId) this.countInvalid()
      return undefined
    }
    this.outstanding.delete(id)
    return req
  }

  private countInvalid(): void {
    if (++this.invalid > this.init.maxInvalid) this.socket.destroy(new ShoalError(ErrorCode.BAD_MESSAGE, 'too many invalid frames'))
  }
}

