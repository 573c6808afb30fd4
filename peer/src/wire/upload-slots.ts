/**
 * Caps how many connections are uploaded to at once. A connection holds a slot while it
 * has requests queued; others are told to come back later. Also counts the requests
 * queued across connections, to tell when uploading is the bottleneck.
 */
export class UploadSlots {
  private readonly holders = new Set<object>()
  /** Requests waiting to be sent, over all connections. */
  queued = 0

  constructor(readonly max: number) {}

  get active(): number {
    return this.holders.size
  }

  /** More requests are waiting than there are connections being served: upload is the bottleneck. */
  get saturated(): boolean {
    return this.queued > Math.max(1, this.holders.size)
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
