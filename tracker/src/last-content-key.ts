import { toHex } from '@shoal/protocol'

/**
 * The index key (hex) of a content id, remembering the last one asked: a connection's
 * haves and finds name the same content again and again, and comparing 32 bytes costs
 * less than hex-encoding them into a new string.
 */
export class LastContentKey {
  private readonly bytes = new Uint8Array(32)
  private key: string | undefined

  of(content: Uint8Array): string {
    if (content.length !== this.bytes.length) return toHex(content)
    if (this.key !== undefined && this.matches(content)) return this.key
    this.bytes.set(content)
    this.key = toHex(content)
    return this.key
  }

  private matches(content: Uint8Array): boolean {
    const last = this.bytes
    for (let i = 0; i < last.length; i++) if (last[i] !== content[i]) return false
    return true
  }
}
