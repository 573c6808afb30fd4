/** How often each chunk of one content has been handed out, with the lowest count kept current. */
class CopyCounts {
  readonly copies: Uint32Array
  /** atLevel[k] = chunks handed out exactly k times. */
  private readonly atLevel: number[]
  min = 0

  constructor(chunkCount: number) {
    this.copies = new Uint32Array(chunkCount)
    this.atLevel = [chunkCount]
  }

  add(chunk: number): void {
    const level = this.copies[chunk]++
    this.atLevel[level]--
    this.atLevel[level + 1] = (this.atLevel[level + 1] ?? 0) + 1
    while (this.atLevel[this.min] === 0) this.min++
  }
}

/**
 * Keeps a saturated uploader from spending its bandwidth on copies the swarm can make
 * itself: while some chunk of a content has gone out fewer times than chunk X, a request
 * for X is refused (`reject ERR_BUSY`), so the requester fetches X from a peer that has
 * it and asks us for a chunk nobody has yet — each round of copies completes before the
 * next starts (BitTorrent's super-seeding, reduced to one rule). A peer still refused
 * after `patienceMs` is served, so nobody waits on peers it cannot reach.
 */
export class SpreadPolicy {
  private readonly counts = new Map<string, CopyCounts>()
  /** `content/chunk/peer` → when that peer was first refused that chunk. */
  private readonly refused = new Map<string, number>()

  constructor(private readonly patienceMs: number, private readonly now: () => number = Date.now) {}

  /** Whether to refuse `chunk` to `peer` now; counts the hand-out when not. */
  refuse(content: string, chunkCount: number, chunk: number, peer: string, saturated: boolean): boolean {
    let counts = this.counts.get(content)
    if (counts === undefined) this.counts.set(content, (counts = new CopyCounts(chunkCount)))
    if (saturated && counts.copies[chunk] > counts.min) {
      const now = this.now()
      this.prune(now)
      const key = `${content}/${chunk}/${peer}`
      const first = this.refused.get(key)
      if (first === undefined) this.refused.set(key, now)
      if (first === undefined || now - first < this.patienceMs) return true
      this.refused.delete(key)
    }
    counts.add(chunk)
    return false
  }

  /** Forgets a content no longer served. */
  forget(content: string): void {
    this.counts.delete(content)
  }

  /** Drops refusals too old to matter (Map order is oldest first), a bounded amount per call. */
  private prune(now: number): void {
    let n = 0
    for (const [key, at] of this.refused) {
      if (now - at < 2 * this.patienceMs || ++n > 64) return
      this.refused.delete(key)
    }
  }
}
