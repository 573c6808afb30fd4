/**
 * Caps how many connections are uploaded to at once. A connection holds a slot while it
 * has requests queued; others are told to come back later.
 */
export class UploadSlots {
  private readonly holders = new Set<object>()

  constructor(readonly max: number) {}

  get active(): number {
    return this.holders.size
  }

  tryAcquire(holder: object): boolean {
    if (this.holders.has(holder)) return true
    if (this.holders.size >= this.max) return false
    this.holders.add(holder)
    return true
  }

  release(holder: object): void {
    this.holders.delete(holder)
  }
}
