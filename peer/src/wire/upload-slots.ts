/**
 * Caps how many connections are uploaded to at once. A connection holds a slot while it
 * has requests queued; others are told to come back later. A holder whose reader stopped
 * taking bytes parks: its slot goes to someone else, and as many holders may be parked as
 * there are slots (the oldest beyond that is handed back to be dropped), so stalled
 * readers bound what is buffered for them. Also counts the requests queued across
 * connections, to tell when uploading is the bottleneck.
 */
export class UploadSlots<H extends object = object> {
  private readonly holders = new Set<H>()
  /** Holders waiting for a stalled reader, oldest first. */
  private readonly parked = new Set<H>()
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

  tryAcquire(holder: H): boolean {
    if (this.holders.has(holder)) return true
    if (this.holders.size >= this.max) return false
    this.parked.delete(holder)
    this.holders.add(holder)
    return true
  }

  /** Gives the holder's slot to others while its reader stalls; returns a parked holder to drop, if too many wait. */
  park(holder: H): H | undefined {
    this.holders.delete(holder)
    this.parked.add(holder)
    if (this.parked.size <= this.max) return undefined
    const oldest = this.parked.values().next().value as H
    this.parked.delete(oldest)
    return oldest
  }

  release(holder: H): void {
    this.holders.delete(holder)
    this.parked.delete(holder)
  }
}
