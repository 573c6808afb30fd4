const clock = (): number => performance.now()

/**
 * Allows `rate` units per second on average and bursts up to `burst`; refills lazily
 * from the clock on each take, so an idle bucket costs nothing.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = clock) {
    this.tokens = burst
    this.last = this.now()
  }

  /** Returns tokens taken for work that was not done (never past the burst). */
  giveBack(n: number): void {
    this.tokens = Math.min(this.burst, this.tokens + n)
  }

  /** Takes `n` tokens if there are enough; false (and nothing taken) otherwise. */
  take(n = 1): boolean {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000)
    this.last = now
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }
}
