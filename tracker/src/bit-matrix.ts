import { WordScratch } from './word-scratch.js'

/** Words hold wire bytes in the platform's order, so a byte's place in a word follows it. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** The word of a bitfield that holds `chunk`'s bit. */
export function wordOf(chunk: number): number {
  return chunk >>> 5
}

/** `chunk`'s bit within its word: the wire's bit (most significant first) of the word's byte. */
export function bitOf(chunk: number): number {
  const byteInWord = (chunk >>> 3) & 3
  return (0x80 >>> (chunk & 7)) << ((LITTLE_ENDIAN ? byteInWord : 3 - byteInWord) * 8)
}

const wire = new WordScratch()

/**
 * The bitfields of one swarm's members, one column each, stored word-major: word `w` of
 * column `c` is at `w * capacity + c`. A find probes the same few chunks in many members,
 * and here those probes fall in a handful of cache lines; with a bitfield per member each
 * probe first chased the member's own buffer, a cache miss apiece at 10,000 peers. Word
 * `w` of a column is the wire bitfield's bytes 4w..4w+3 as one platform word, zero padded.
 * Below the bitfield words, each column has a 32-bit tag (row `wordCount`) for what a find
 * reads of every member it looks at, so that read shares cache lines too.
 */
export class BitMatrix {
  words: Uint32Array
  capacity: number
  columns = 0
  private readonly rows: number

  constructor(readonly wordCount: number, capacity = 1) {
    this.rows = wordCount + 1
    this.capacity = capacity
    this.words = new Uint32Array(this.rows * capacity)
  }

  /** Where the tag row starts: column `c`'s tag is `words[tagRow + c]`. */
  get tagRow(): number {
    return this.wordCount * this.capacity
  }

  /** Appends a column holding the wire bitfield `bytes` (at most wordCount words) and `tag`; returns its index. */
  add(bytes: Uint8Array, tag: number): number {
    if (this.columns === this.capacity) this.resize(2 * this.capacity)
    const col = this.columns++
    const from = wire.load(bytes)
    const n = (bytes.length + 3) >>> 2
    const { words, capacity } = this
    for (let w = 0; w < n; w++) words[w * capacity + col] = from[w]
    words[this.tagRow + col] = tag
    return col
  }

  tag(col: number): number {
    return this.words[this.tagRow + col]
  }

  setTag(col: number, tag: number): void {
    this.words[this.tagRow + col] = tag
  }

  /**
   * Removes column `col`, moving the last column into its place. Returns the moved column's
   * old index, or -1 when `col` was the last. Shrinks once a quarter of the room is in use,
   * so a swarm that emptied gives its memory back.
   */
  remove(col: number): number {
    const last = --this.columns
    const { words, capacity, rows } = this
    for (let w = 0, at = 0; w < rows; w++, at += capacity) {
      words[at + col] = words[at + last]
      words[at + last] = 0
    }
    if (this.columns <= this.capacity >>> 2 && this.capacity > 1) this.resize(this.capacity >>> 1)
    return last === col ? -1 : last
  }

  /** Sets `chunk` in column `col`; false when it was set already. */
  set(col: number, chunk: number): boolean {
    const at = wordOf(chunk) * this.capacity + col
    const bit = bitOf(chunk)
    if ((this.words[at] & bit) !== 0) return false
    this.words[at] |= bit
    return true
  }

  /** Clears `chunk` in column `col`; false when it was clear already. */
  clear(col: number, chunk: number): boolean {
    const at = wordOf(chunk) * this.capacity + col
    const bit = bitOf(chunk)
    if ((this.words[at] & bit) === 0) return false
    this.words[at] &= ~bit
    return true
  }

  /** Whether column `col` shares a set bit with `other` (a bitfield as words). */
  overlaps(col: number, other: Uint32Array): boolean {
    const { words, capacity, wordCount } = this
    for (let w = 0, at = col; w < wordCount; w++, at += capacity) if ((words[at] & other[w]) !== 0) return true
    return false
  }

  /** Writes column `col` ∧ `mask` (all of it when no mask) into wordCount words of `out` from `start`. */
  copy(col: number, out: Uint32Array, mask?: Uint32Array, start = 0): void {
    const { words, capacity, wordCount } = this
    if (mask === undefined) for (let w = 0, at = col; w < wordCount; w++, at += capacity) out[start + w] = words[at]
    else for (let w = 0, at = col; w < wordCount; w++, at += capacity) out[start + w] = words[at] & mask[w]
  }

  private resize(capacity: number): void {
    const old = this.words
    const words = new Uint32Array(this.rows * capacity)
    const keep = Math.min(this.columns, capacity)
    for (let w = 0; w < this.rows; w++) words.set(old.subarray(w * this.capacity, w * this.capacity + keep), w * capacity)
    this.words = words
    this.capacity = capacity
  }
}
