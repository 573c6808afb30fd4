import type { OnReadOpts } from 'node:net'
import { FRAME_HEADER_BYTES, TooLargeError } from '@shoal/protocol'
import type { BufferPool } from './buffer-pool.js'

/** Bytes read at a time between large frames. */
const SCRATCH_BYTES = 64 * 1024
/** Frames longer than this are read straight into a buffer of their own. */
const DIRECT_BYTES = 4 * 1024

export interface FrameSink {
  /**
   * Takes one frame; returns whether its bytes were handed on. When not, a pool block
   * goes back to the pool at once; when so, whoever holds the bytes gives it back.
   */
  frame(frame: Buffer): boolean
  /** The stream cannot be framed any more (a length over the cap). */
  error(err: Error): void
  /** Bytes arrived. */
  activity(): void
}

/**
 * Splits a socket's byte stream into length-prefixed frames through `net`'s `onread`:
 * small frames are read into one reused scratch buffer and copied out; a large frame
 * (a piece) gets a buffer of its own, from the pool when it fits, and the kernel reads
 * the rest of it straight there: no per-read allocation and no copy of the payload.
 * The length is checked against the cap before anything is allocated for it.
 */
export class FrameReader {
  sink: FrameSink | undefined
  readonly onread: OnReadOpts = { buffer: () => this.nextBuffer(), callback: (n) => { this.onRead(n); return true } }
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
  private start = 0
  private end = 0
  /** The large frame being read into its own buffer, and how much of it has arrived. */
  private frame: Buffer | undefined
  private filled = 0
  private failed = false

  constructor(private readonly maxFrame: number, private readonly pool?: BufferPool) {}

  private nextBuffer(): Buffer {
    return this.frame !== undefined ? this.frame.subarray(this.filled) : this.scratch.subarray(this.end)
  }

  private onRead(n: number): void {
    if (this.failed || this.sink === undefined) return
    this.sink.activity()
    if (this.frame === undefined) {
      this.end += n
      return this.drainScratch(this.sink)
    }
    this.filled += n
    if (this.filled < this.frame.length) return
    const frame = this.frame
    this.frame = undefined
    this.deliver(this.sink, frame)
  }

  private deliver(sink: FrameSink, frame: Buffer): void {
    if (!sink.frame(frame)) this.pool?.give(frame)
  }

  private drainScratch(sink: FrameSink): void {
    while (this.end - this.start >= FRAME_HEADER_BYTES) {
      const length = this.scratch.readUInt32BE(this.start)
      if (length > this.maxFrame) {
        this.failed = true
        return sink.error(new TooLargeError(`frame of ${length} bytes exceeds ${this.maxFrame}`))
      }
      const body = this.start + FRAME_HEADER_BYTES
      const arrived = Math.min(length, this.end - body)
      if (arrived < length && length <= DIRECT_BYTES) break
      const frame = (length > DIRECT_BYTES ? this.pool?.take(length) : undefined) ?? Buffer.allocUnsafe(length)
      this.scratch.copy(frame, 0, body, body + arrived)
      this.start = body + arrived
      if (arrived < length) {
        this.frame = frame
        this.filled = arrived
        break
      }
      this.deliver(sink, frame)
    }
    // What is left is the start of a small frame: move it to the front.
    this.scratch.copyWithin(0, this.start, this.end)
    this.end -= this.start
    this.start = 0
  }
}
