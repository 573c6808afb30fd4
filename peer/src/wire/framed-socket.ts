import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import {
  ErrorCode, FRAME_HEADER_BYTES, FrameDecoder, frameHeader, MAX_MANIFEST_BYTES, MAX_PEER_FRAME, peerCodec, ShoalError,
} from '@shoal/protocol'
import type { FrameError, PeerMessage, PieceMessage } from '@shoal/protocol'
import type { FrameReader } from './frame-reader.js'
import { pieceFrameHead } from './piece-frame.js'

/** Bytes queued in the socket beyond which senders wait for 'drain'. */
const HIGH_WATER = 8 * 1024 * 1024
/** Room for the small replies (busy, reject, have, error) a slow reader may have waiting. */
const SMALL_REPLIES_BYTES = 1024 * 1024
/**
 * Unsent bytes past which the other side is not reading: more than a reader that reads
 * ever leaves queued — the high-water mark, one piece past it, one manifest (one at a
 * time per connection) and small replies.
 */
const MAX_UNSENT_BYTES = HIGH_WATER + MAX_PEER_FRAME + MAX_MANIFEST_BYTES + SMALL_REPLIES_BYTES

export interface FramedSocketInit {
  /** Frames longer than the other side can send end the connection. Default MAX_PEER_FRAME. */
  maxFrame?: number
  /** A reader given to the socket as its `onread` (no 'data' events then): it frames the stream, with its own cap. */
  reader?: FrameReader
  /** A send that would leave more than this unsent closes the connection. Default MAX_UNSENT_BYTES. */
  maxUnsent?: number
}

export interface FramedSocketEvents {
  message: [PeerMessage]
  /** A frame that failed validation; the stream itself is still in sync. */
  invalid: [FrameError]
  /** Bytes arrived (any frame, complete or not): the other side is alive. */
  activity: []
  /** A send would have left this many bytes unsent, over the cap: the connection is being closed. */
  overflow: [number]
  close: [Error | undefined]
}

/**
 * One peer-wire connection over TCP: 4-byte big-endian length, then one `peerCodec`
 * frame. Frames are checked by the codec; a length over the cap desynchronizes the
 * stream, so it ends the connection. The cap is the longest frame the other side can
 * send, so a partial frame never holds more than that.
 */
export class FramedSocket extends EventEmitter<FramedSocketEvents> {
  private readonly decoder: FrameDecoder
  private readonly maxUnsent: number
  private closed = false
  private closeError: Error | undefined

  constructor(readonly socket: Socket, { maxFrame = MAX_PEER_FRAME, reader, maxUnsent = MAX_UNSENT_BYTES }: FramedSocketInit = {}) {
    super()
    this.decoder = new FrameDecoder(maxFrame)
    this.maxUnsent = maxUnsent
    socket.setNoDelay(true)
    if (reader === undefined) socket.on('data', (data) => this.onData(data))
    else reader.sink = { frame: (f) => this.onFrame(f), error: (err) => this.destroy(err), activity: () => this.emit('activity') }
    socket.on('error', (err) => (this.closeError ??= err))
    socket.on('close', () => this.onClose())
  }

  get isClosed(): boolean {
    return this.closed
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? ''
  }

  /** Closing or closed: nothing more goes out. */
  private get ending(): boolean {
    return this.socket.writableEnded || this.socket.destroyed
  }

  /** `onSent` runs once the frame is handed to the kernel (or the socket failed). */
  send(msg: PeerMessage, onSent?: () => void): void {
    if (this.ending) return onSent?.()
    const bytes = peerCodec.encode(msg)
    if (this.overflows(FRAME_HEADER_BYTES + bytes.length)) return onSent?.()
    this.socket.cork()
    this.socket.write(frameHeader(bytes.length))
    this.socket.write(bytes, onSent === undefined ? undefined : () => onSent())
    this.socket.uncork()
  }

  /**
   * Sends a piece with the payload written as is (one writev, no copy). `onSent` runs once
   * the socket no longer needs the payload (handed to the kernel, or the socket failed).
   */
  sendPiece(msg: Omit<PieceMessage, 'type'>, onSent?: () => void): void {
    if (this.ending) return onSent?.()
    const head = pieceFrameHead(msg, msg.data.length)
    if (this.overflows(head.length + msg.data.length)) return onSent?.()
    this.socket.cork()
    this.socket.write(head)
    this.socket.write(msg.data, onSent === undefined ? undefined : () => onSent())
    this.socket.uncork()
  }

  /**
   * Whether queuing `bytes` more would leave over the cap unsent; then the other side is
   * not reading, and the connection is closed (after 'overflow', while its address is known).
   */
  private overflows(bytes: number): boolean {
    const unsent = this.socket.writableLength + bytes
    if (unsent <= this.maxUnsent) return false
    this.emit('overflow', unsent)
    this.destroy(new ShoalError(ErrorCode.LIMIT_EXCEEDED, `${unsent} bytes would be unsent: the other side is not reading`))
    return true
  }

  /**
   * Resolves true when the socket's queue is below the high-water mark (or it closed), false
   * once the other side has taken no bytes for `timeoutMs`: it stopped reading.
   */
  async drained(timeoutMs: number): Promise<boolean> {
    let queued = this.socket.writableLength
    while (!this.closed && this.socket.writableLength > HIGH_WATER) {
      if (!(await this.drainOrTimeout(timeoutMs))) {
        if (this.socket.writableLength >= queued) return false
        queued = this.socket.writableLength
      }
    }
    return true
  }

  close(err?: Error): void {
    if (err !== undefined) this.closeError ??= err
    this.socket.end()
    // A peer that never reads must not hold the socket open.
    this.socket.setTimeout(2000, () => this.socket.destroy())
  }

  destroy(err?: Error): void {
    if (err !== undefined) this.closeError ??= err
    this.socket.destroy()
  }

  /** True on 'drain' or 'close', false when `ms` passed first. */
  private drainOrTimeout(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (drained: boolean): void => {
        clearTimeout(timer)
        this.socket.off('drain', onDrain)
        this.socket.off('close', onDrain)
        resolve(drained)
      }
      const onDrain = (): void => done(true)
      const timer = setTimeout(done, ms, false)
      this.socket.on('drain', onDrain)
      this.socket.on('close', onDrain)
    })
  }

  private onData(data: Buffer): void {
    this.emit('activity')
    let frames: Buffer[]
    try {
      frames = this.decoder.push(data)
    } catch (err) {
      this.destroy(err as Error)
      return
    }
    for (const frame of frames) this.onFrame(frame)
  }

  /** Returns whether the frame's bytes were handed on: a piece's data is a view of them. */
  private onFrame(frame: Buffer): boolean {
    if (this.closed) return false
    let msg: PeerMessage
    try {
      msg = peerCodec.decode(frame)
    } catch (err) {
      this.emit('invalid', err as FrameError)
      return false
    }
    this.emit('message', msg)
    return msg.type === 'piece'
  }

  private onClose(): void {
    if (this.closed) return
    this.closed = true
    this.emit('close', this.closeError)
  }
}

