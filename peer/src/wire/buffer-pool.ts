/**
 * Reusable receive buffers of one size (a chunk plus its frame head). Reading each piece
 * into a fresh megabyte costs page faults and garbage collections that, per GiB, cost
 * more CPU than hashing it; a handful of blocks reused in turn costs neither.
 */
export class BufferPool {
  private readonly free: Buffer[] = []
  /** Blocks handed out and not yet given back; a block never given back is just collected. */
  private readonly lent = new WeakSet<ArrayBufferLike>()

  /**
   * `keep`: free blocks held at most; more given back are left to the collector. `shared`:
   * blocks in shared memory, which a worker thread can read where they lie.
   */
  constructor(readonly blockBytes: number, private readonly keep: number, private readonly shared = false) {}

  /** `length` bytes from a block, or undefined when that does not fit in one. */
  take(length: number): Buffer | undefined {
    if (length > this.blockBytes) return undefined
    const block = this.free.pop() ?? (this.shared ? Buffer.from(new SharedArrayBuffer(this.blockBytes)) : Buffer.allocUnsafeSlow(this.blockBytes))
    this.lent.add(block.buffer)
    return block.subarray(0, length)
  }

  /**
   * Gives back the block `view` lies in, for reuse by the next `take`. Only call once
   * nothing reads those bytes any more. A view of anything else, or a block already
   * given back, is ignored, so a second give can never hand one block out twice.
   */
  give(view: Uint8Array): void {
    if (!this.lent.delete(view.buffer)) return
    if (this.free.length < this.keep) this.free.push(Buffer.from(view.buffer, 0, this.blockBytes))
  }
}
