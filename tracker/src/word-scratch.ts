/**
 * A reused buffer seen both as 32-bit words and as exactly `byteLength` bytes, so hot paths
 * work a word at a time without allocating typed arrays. Valid until the next call.
 */
export class WordScratch {
  words = new Uint32Array(64)
  bytes = new Uint8Array(this.words.buffer, 0, 0)

  /** Makes `bytes` a view of the first `byteLength` bytes of `words`. */
  take(byteLength: number): Uint32Array {
    if (byteLength + 4 > this.words.byteLength) this.words = new Uint32Array((byteLength >>> 2) * 2 + 2)
    if (this.bytes.buffer !== this.words.buffer || this.bytes.length !== byteLength) {
      this.bytes = new Uint8Array(this.words.buffer, 0, byteLength)
    }
    return this.words
  }

  /** Copies `from` in, zero padded to a whole word. */
  load(from: Uint8Array): Uint32Array {
    const words = this.take(from.length)
    words[from.length >>> 2] = 0
    this.bytes.set(from)
    return words
  }
}
