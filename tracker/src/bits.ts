/**
 * Bitfields the index owns live in 32-bit aligned buffers so overlap tests and
 * intersections run a word at a time; `bytes` is the exact wire-length view.
 */
export interface AlignedBits {
  bytes: Uint8Array
  words: Uint32Array
}

export function alignedBits(byteLength: number, from: Uint8Array): AlignedBits {
  const words = new Uint32Array((byteLength + 3) >>> 2)
  const bytes = new Uint8Array(words.buffer, 0, byteLength)
  bytes.set(from)
  return { bytes, words }
}

/** Calls `fn` for every set bit (most significant bit of each byte first, as on the wire). */
export function forEachSetBit(bytes: Uint8Array, fn: (index: number) => void): void {
  for (let b = 0; b < bytes.length; b++) {
    let v = bytes[b]
    while (v !== 0) {
      const k = Math.clz32(v) - 24
      fn((b << 3) | k)
      v ^= 0x80 >>> k
    }
  }
}

/** Whether `a` and `b` share a set bit, over `a`'s words. */
export function overlaps(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] & b[i]) !== 0) return true
  return false
}

export function hasBit(bytes: Uint8Array, index: number): boolean {
  return (bytes[index >>> 3] & (0x80 >>> (index & 7))) !== 0
}
