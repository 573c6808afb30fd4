import { BadMessageError, InvalidArgumentError } from './errors.js'
import { MAX_CHUNKS } from './limits.js'

/** Set bits in every byte value, so counting costs one lookup per byte. */
const POPCOUNT = new Uint8Array(256)
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]

function byteLength(size: number): number {
  return (size + 7) >>> 3
}

/**
 * A fixed-size set of chunk indices. Bit i lives in byte i >> 3 at mask 0x80 >> (i & 7)
 * (most significant bit first), which is also the wire form: `bytes` goes on the wire
 * as is. Spare bits in the last byte are always zero.
 */
export class Bitfield {
  readonly size: number
  readonly bytes: Uint8Array
  private setCount: number

  constructor(size: number, bytes?: Uint8Array) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_CHUNKS) {
      throw new InvalidArgumentError('size', `must be an integer from 0 to ${MAX_CHUNKS}`)
    }
    this.size = size
    if (bytes === undefined) {
      this.bytes = new Uint8Array(byteLength(size))
      this.setCount = 0
      return
    }
    Bitfield.check(size, bytes)
    this.bytes = bytes
    this.setCount = countBits(bytes)
  }

  /** Builds from untrusted wire bytes: the length must match and spare bits must be zero. */
  static fromWire(size: number, bytes: Uint8Array): Bitfield {
    return new Bitfield(size, Uint8Array.from(bytes))
  }

  static full(size: number): Bitfield {
    const field = new Bitfield(size)
    field.bytes.fill(0xff)
    const spare = field.bytes.length * 8 - size
    if (spare > 0) field.bytes[field.bytes.length - 1] = (0xff << spare) & 0xff
    field.setCount = size
    return field
  }

  static fromIndices(size: number, indices: Iterable<number>): Bitfield {
    const field = new Bitfield(size)
    for (const i of indices) field.set(i)
    return field
  }

  /** Throws BadMessageError unless `bytes` is a valid wire form for `size` bits. */
  static check(size: number, bytes: Uint8Array): void {
    if (bytes.length !== byteLength(size)) {
      throw new BadMessageError(`bitfield of ${size} bits must be ${byteLength(size)} bytes, got ${bytes.length}`)
    }
    const spare = bytes.length * 8 - size
    if (spare > 0 && (bytes[bytes.length - 1] & ((1 << spare) - 1)) !== 0) {
      throw new BadMessageError('bitfield has bits set beyond its size')
    }
  }

  get count(): number {
    return this.setCount
  }

  get complete(): boolean {
    return this.setCount === this.size
  }

  get empty(): boolean {
    return this.setCount === 0
  }

  has(index: number): boolean {
    if (!(index >= 0 && index < this.size)) return false
    return (this.bytes[index >>> 3] & (0x80 >>> (index & 7))) !== 0
  }

  /** Sets bit `index`; returns whether it changed. */
  set(index: number): boolean {
    this.checkIndex(index)
    const mask = 0x80 >>> (index & 7)
    const at = index >>> 3
    if (this.bytes[at] & mask) return false
    this.bytes[at] |= mask
    this.setCount++
    return true
  }

  /** Clears bit `index`; returns whether it changed. */
  clear(index: number): boolean {
    this.checkIndex(index)
    const mask = 0x80 >>> (index & 7)
    const at = index >>> 3
    if (!(this.bytes[at] & mask)) return false
    this.bytes[at] &= ~mask
    this.setCount--
    return true
  }

  /** The first clear bit at or after `from`, or -1. */
  nextMissing(from = 0): number {
    return this.scan(from, 0xff, 0)
  }

  /** The first set bit at or after `from`, or -1. */
  nextSet(from = 0): number {
    return this.scan(from, 0x00, 0xff)
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = this.nextSet(0); i !== -1; i = this.nextSet(i + 1)) yield i
  }

  toArray(): number[] {
    return [...this]
  }

  clone(): Bitfield {
    return new Bitfield(this.size, Uint8Array.from(this.bytes))
  }

  and(other: Bitfield): Bitfield {
    return this.combine(other, (a, b) => a & b)
  }

  or(other: Bitfield): Bitfield {
    return this.combine(other, (a, b) => a | b)
  }

  andNot(other: Bitfield): Bitfield {
    return this.combine(other, (a, b) => a & ~b)
  }

  /** |this ∧ other| without allocating. */
  countAnd(other: Bitfield): number {
    this.checkSameSize(other)
    let n = 0
    const a = this.bytes
    const b = other.bytes
    for (let i = 0; i < a.length; i++) n += POPCOUNT[a[i] & b[i]]
    return n
  }

  equals(other: Bitfield): boolean {
    if (other.size !== this.size || other.setCount !== this.setCount) return false
    for (let i = 0; i < this.bytes.length; i++) if (this.bytes[i] !== other.bytes[i]) return false
    return true
  }

  /**
   * Walks bytes from `from`, skipping whole bytes equal to `skipByte`, and returns the
   * first index whose bit differs from the skipped value.
   */
  private scan(from: number, skipByte: number, wantBit: number): number {
    if (from < 0) from = 0
    for (let i = from; i < this.size; ) {
      const byte = this.bytes[i >>> 3]
      if ((i & 7) === 0 && byte === skipByte) {
        i += 8
        continue
      }
      const bit = byte & (0x80 >>> (i & 7)) ? 0xff : 0
      if (bit === wantBit) return i
      i++
    }
    return -1
  }

  private combine(other: Bitfield, op: (a: number, b: number) => number): Bitfield {
    this.checkSameSize(other)
    const out = new Uint8Array(this.bytes.length)
    for (let i = 0; i < out.length; i++) out[i] = op(this.bytes[i], other.bytes[i]) & 0xff
    return new Bitfield(this.size, out)
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) {
      throw new InvalidArgumentError('index', `${index} is outside 0..${this.size - 1}`)
    }
  }

  private checkSameSize(other: Bitfield): void {
    if (other.size !== this.size) {
      throw new InvalidArgumentError('other', `bitfield sizes differ (${this.size} and ${other.size})`)
    }
  }
}

export function countBits(bytes: Uint8Array): number {
  let n = 0
  for (let i = 0; i < bytes.length; i++) n += POPCOUNT[bytes[i]]
  return n
}
