import { TooLargeError } from './errors.js'

/** Bytes in the length prefix of a stream frame (unsigned 32-bit, big-endian). */
export const FRAME_HEADER_BYTES = 4

/**
 * Splits a byte stream into length-prefixed frames. The length is checked against the
 * cap as soon as its four bytes arrive, before any payload is buffered.
 */
export class FrameDecoder {
  private pending: Buffer[] = []
  private pendingBytes = 0
  private need = -1

  constructor(private readonly maxFrame: number) {}

  /** Buffered bytes not yet returned as frames. */
  get buffered(): number {
    return this.pendingBytes
  }

  /** Appends stream bytes and returns every frame they complete. */
  push(data: Buffer): Buffer[] {
    this.pending.push(data)
    this.pendingBytes += data.length
    const frames: Buffer[] = []
    for (;;) {
      if (this.need === -1) {
        if (this.pendingBytes < FRAME_HEADER_BYTES) break
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0)
        if (length > this.maxFrame) throw new TooLargeError(`frame of ${length} bytes exceeds ${this.maxFrame}`)
        this.need = length
      }
      if (this.pendingBytes < this.need) break
      frames.push(this.take(this.need))
      this.need = -1
    }
    return frames
  }

  private take(n: number): Buffer {
    // A zero-length frame may end exactly where the reads end, leaving nothing pending.
    if (n === 0) return Buffer.alloc(0)
    const first = this.pending[0]
    if (first.length >= n) {
      // The common case: the frame lies in one read, so hand out a view instead of a copy.
      const out = first.subarray(0, n)
      if (first.length === n) this.pending.shift()
      else this.pending[0] = first.subarray(n)
      this.pendingBytes -= n
      return out
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const head = this.pending[0]
      const take = Math.min(head.length, n - filled)
      head.copy(out, filled, 0, take)
      filled += take
      if (take === head.length) this.pending.shift()
      else this.pending[0] = head.subarray(take)
    }
    this.pendingBytes -= n
    return out
  }
}

export function frameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  header.writeUInt32BE(length, 0)
  return header
}
