/** A seeded generator (sfc32), so randomized tests replay exactly from their seed. */
export function seeded(seed: number): () => number {
  let a = 0x9e3779b9
  let b = 0x243f6a88
  let c = 0xb7e15162
  let d = seed >>> 0
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
  for (let i = 0; i < 12; i++) next()
  return next
}

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]
}

export function randomBitfield(rand: () => number, chunkCount: number, density: number): Uint8Array {
  const bytes = new Uint8Array((chunkCount + 7) >>> 3)
  for (let i = 0; i < chunkCount; i++) if (rand() < density) bytes[i >>> 3] |= 0x80 >>> (i & 7)
  return bytes
}

/** A hex key of `bytes` random bytes. */
export function randomKey(rand: () => number, bytes: number): string {
  let out = ''
  for (let i = 0; i < bytes; i++) out += Math.floor(rand() * 256).toString(16).padStart(2, '0')
  return out
}
