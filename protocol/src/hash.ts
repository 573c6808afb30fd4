import { createHash } from 'node:crypto'

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return h.digest()
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const HEX = /^[0-9a-f]*$/

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Parses lowercase hex of exactly `length` bytes; returns undefined for anything else. */
export function fromHex(text: string, length: number): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length !== length * 2 || !HEX.test(text)) return undefined
  return new Uint8Array(Buffer.from(text, 'hex'))
}
