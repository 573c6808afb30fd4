/**
 * Keeps a saturated uploader from spending its bandwidth on copies the swarm already has:
 * a chunk handed to one peer moments ago is refused (`reject ERR_BUSY`) to the next,
 * who then fetches it from that peer and asks us for a chunk nobody has yet. A peer sent
 * away once for a chunk is served when it asks for it again, so nobody waits on a peer it
 * cannot reach. (BitTorrent's super-seeding, reduced to one rule.)
 */
export class SpreadPolicy {
  /** `content/chunk` → who got it last, and when. */
  private readonly handed = new Map<string, { peer: string; at: number }>()
  /** `content/chunk/peer` → when that peer was sent away for that chunk. */
  private readonly refused = new Map<string, number>()

  constructor(private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Whether to refuse `chunk` to `peer` now; records the hand-out when not. */
  refuse(content: string, chunk: number, peer: string, saturated: boolean): boolean {
    const now = this.now()
    this.prune(now)
    const key = `${content}/${chunk}`
    const last = this.handed.get(key)
    const refusedKey = `${key}/${peer}`
    if (saturated && last !== undefined && last.peer !== peer && now - last.at < this.windowMs && !this.refused.has(refusedKey)) {
      this.refused.set(refusedKey, now)
      return true
    }
    this.hand(key, peer, now)
    return false
  }

  /** The chunk is going out to `peer` now (it may have waited in a queue since `refuse`). */
  sent(content: string, chunk: number, peer: string): void {
    this.hand(`${content}/${chunk}`, peer, this.now())
  }

  private hand(key: string, peer: string, at: number): void {
    // Re-inserted so Map order stays oldest first, which prune relies on.
    this.handed.delete(key)
    this.handed.set(key, { peer, at })
  }

  /** Drops what is too old to matter, a bounded amount per call. */
  private prune(now: number): void {
    for (const maps of [this.handed, this.refused] as Map<string, { at: number } | number>[]) {
      let n = 0
      for (const [key, v] of maps) {
        if (now - (typeof v === 'number' ? v : v.at) < 4 * this.windowMs || ++n > 64) break
        maps.delete(key)
      }
    }
  }
}
