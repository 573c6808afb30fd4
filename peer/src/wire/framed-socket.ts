import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { FrameDecoder, frameHeader, MAX_PEER_FRAME, peerCodec } from '@shoal/protocol'
import type { FrameError, PeerMessage, PieceMessage } from '@shoal/protocol'
import type { FrameReader } from './frame-reader.js'
import { pieceFrameHead } from './piece-frame.js'

/** Bytes queued in the socket beyond which senders wait for 'drain'. */
const HIGH_WATER = 8 * 1024 * 1024

export interface FramedSocketInit {
  /** Frames longer than the other side can send end the connection. Default MAX_PEER_FRAME. */
  maxFrame?: number
  /** Frames the socket through a reader given to it as its `onread` (no 'data' events then); the reader caps frames itself. */
  reader?: FrameReader
}

export interface FramedSocketEvents {
  message: [PeerMessage]
  /** A frame that failed validation; the stream itself is still in sync. */
  invalid: [FrameError]
  /** Bytes arrived (any frame, complete or not): the other side is alive. */
  activity: []
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
  private closed = false
  private closeError: Error | undefined

  constructor(readonly socket: Socket, { maxFrame = MAX_PEER_FRAME, reader }: FramedSocketInit = {}) {
    super()
    this.decoder = new FrameDecoder(maxFrame)
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

  send(msg: PeerMessage): void {
    if (this.closed) return
    const bytes = peerCodec.encode(msg)
    this.socket.cork()
    this.socket.write(frameHeader(bytes.length))
    this.socket.write(bytes)
    this.socket.uncork()
  }

  /**
   * Sends a piece with the payload written as is (one writev, no copy). `onSent` runs once
   * the socket no longer needs the payload (handed to the kernel, or the socket failed).
   */
  sendPiece(msg: Omit<PieceMessage, 'type'>, onSent?: () => void): void {
    if (this.closed) return onSent?.()
    this.socket.cork()
    this.socket.write(pieceFrameHead(msg, msg.data.length))
    this.socket.write(msg.data, onSent === undefined ? undefined : () => onSent())
    this.socket.uncork()
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

