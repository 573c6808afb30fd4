import { createHash, timingSafeEqual } from 'node:crypto'

/** Compares secrets in time independent of where they differ (hashing first hides the length too). */
export function secretsEqual(expected: string | Uint8Array, given: string | Uint8Array | undefined): boolean {
  if (given === undefined) return false
  const digest = (v: string | Uint8Array): Buffer => createHash('sha256').update(v).digest()
  return timingSafeEqual(digest(expected), digest(given))
}
