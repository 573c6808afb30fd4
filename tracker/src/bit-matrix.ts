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

/** Columns per block once a matrix outgrows its first block. */
export const BLOCK_COLUMNS = 64

/**
 * The bitfields of one swarm's members, one column each, stored word-major: in a block, word
 * `w` of column `c` is at `w * width + c`. A find probes the same few chunks in many members,
 * and here those probes fall in a handful of cache lines; with a bitfield per member each
 * probe first chased the member's own buffer, a cache miss apiece at 10,000 peers. Word `w`
 * of a column is the wire bitfield's bytes 4w..4w+3 as one platform word, zero padded.
 * Below the bitfield words, each column has a 32-bit tag (row `wordCount`) for what a find
 * reads of every member it looks at, so that read shares cache lines too.
 *
 * The first block doubles in width up to `blockColumns`; after that the matrix grows and
 * shrinks a block at a time, so a large swarm is never copied whole (a stall, and twice its
 * memory for a moment) and keeps at most one spare block and a half.
 */
export class BitMatrix {
  /** Column `c` is column `c & (blockColumns - 1)` of `blocks[c >>> blockShift]`. */
  readonly blocks: Uint32Array[]
  /** Columns per block (every block has the same width). */
  width = 1
  columns = 0
  readonly blockShift: number
  private readonly rows: number

  constructor(readonly wordCount: number, readonly blockColumns = BLOCK_COLUMNS) {
    if (!Number.isInteger(Math.log2(blockColumns))) throw new RangeError('blockColumns must be a power of two')
    this.blockShift = Math.log2(blockColumns)
    this.rows = wordCount + 1
    this.blocks = [new Uint32Array(this.rows)]
  }

  /** Where the tag row starts in every block: column `c`'s tag is at `tagRow + (c & (blockColumns - 1))`. */
  get tagRow(): number {
    return this.wordCount * this.width
  }

  get capacity(): number {
    return this.blocks.length * this.width
  }

  /** Appends a column holding the wire bitfield `bytes` (at most wordCount words) and `tag`; returns its index. */
  add(bytes: Uint8Array, tag: number): number {
    if (this.columns === this.capacity) this.grow()
    const col = this.columns++
    const from = wire.load(bytes)
    const n = (bytes.length + 3) >>> 2
    const block = this.blockOf(col)
    const at = this.offsetOf(col)
    const width = this.width
    for (let w = 0; w < n; w++) block[w * width + at] = from[w]
    block[this.tagRow + at] = tag
    return col
  }

  tag(col: number): number {
    return this.blockOf(col)[this.tagRow + this.offsetOf(col)]
  }

  setTag(col: number, tag: number): void {
    this.blockOf(col)[this.tagRow + this.offsetOf(col)] = tag
  }

  /**
   * Removes column `col`, moving the last column into its place. Returns the moved column's
   * old index, or -1 when `col` was the last. Gives room back as the matrix empties.
   */
  remove(col: number): number {
    const last = --this.columns
    const into = this.blockOf(col)
    const from = this.blockOf(last)
    const a = this.offsetOf(col)
    const b = this.offsetOf(last)
    const { width, rows } = this
    for (let w = 0, at = 0; w < rows; w++, at += width) {
      into[at + a] = from[at + b]
      from[at + b] = 0
    }
    this.shrink()
    return last === col ? -1 : last
  }

  /** Sets `chunk` in column `col`; false when it was set already. */
  set(col: number, chunk: number): boolean {
    const block = this.blockOf(col)
    const at = wordOf(chunk) * this.width + this.offsetOf(col)
    const bit = bitOf(chunk)
    if ((block[at] & bit) !== 0) return false
    block[at] |= bit
    return true
  }

  /** Clears `chunk` in column `col`; false when it was clear already. */
  clear(col: number, chunk: number): boolean {
    const block = this.blockOf(col)
    const at = wordOf(chunk) * this.width + this.offsetOf(col)
    const bit = bitOf(chunk)
    if ((block[at] & bit) === 0) return false
    block[at] &= ~bit
    return true
  }

  /** Whether column `col` shares a set bit with `other` (a bitfield as words). */
  overlaps(col: number, other: Uint32Array): boolean {
    const block = this.blockOf(col)
    const { width, wordCount } = this
    for (let w = 0, at = this.offsetOf(col); w < wordCount; w++, at += width) if ((block[at] & other[w]) !== 0) return true
    return false
  }

  /** Writes column `col` ∧ `mask` (all of it when no mask) into wordCount words of `out` from `start`. */
  copy(col: number, out: Uint32Array, mask?: Uint32Array, start = 0): void {
    const block = this.blockOf(col)
    const { width, wordCount } = this
    const from = this.offsetOf(col)
    if (mask === undefined) for (let w = 0, at = from; w < wordCount; w++, at += width) out[start + w] = block[at]
    else for (let w = 0, at = from; w < wordCount; w++, at += width) out[start + w] = block[at] & mask[w]
  }

  private blockOf(col: number): Uint32Array {
    return this.blocks[col >>> this.blockShift]
  }

  private offsetOf(col: number): number {
    return col & (this.blockColumns - 1)
  }

  private grow(): void {
    if (this.width < this.blockColumns) this.resize(2 * this.width)
    else this.blocks.push(new Uint32Array(this.rows * this.width))
  }

  /** Drops the last block once the one before it is half empty, or narrows a lone block used to a quarter. */
  private shrink(): void {
    const { blocks, columns, width } = this
    if (blocks.length > 1) {
      if (columns <= (blocks.length - 1) * width - width / 2) blocks.pop()
    } else if (width > 1 && columns <= width >>> 2) {
      this.resize(width >>> 1)
    }
  }

  /** Re-lays the lone block at `width` columns. */
  private resize(width: number): void {
    const old = this.blocks[0]
    const block = new Uint32Array(this.rows * width)
    const keep = Math.min(this.columns, width)
    for (let w = 0; w < this.rows; w++) block.set(old.subarray(w * this.width, w * this.width + keep), w * width)
    this.blocks[0] = block
    this.width = width
  }
}
