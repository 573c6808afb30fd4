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

export function hasBit(bytes: Uint8Array, index: number): boolean {
  return (bytes[index >>> 3] & (0x80 >>> (index & 7))) !== 0
}
