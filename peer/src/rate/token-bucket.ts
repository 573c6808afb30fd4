import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidArgumentError } from '@shoal/protocol'

/**
 * A byte-rate limit shared by many callers. `take(n)` spends n tokens at once and, when
 * that leaves the bucket in debt, waits until the debt is paid back at `rate`. Callers
 * that arrive later inherit the earlier debt, so waits are served in arrival order and
 * the long-run rate never exceeds `rate` (plus one `burst`).
 */
export class TokenBucket {
  private tokens: number
  private last = performance.now()

  /** `rate` in bytes per second; 0 means unlimited. */
  constructor(private rate: number, private readonly burst = Math.max(64 * 1024, rate / 10)) {
    if (!Number.isFinite(rate) || rate < 0) throw new InvalidArgumentError('rate', 'must be a non-negative number of bytes per second')
    this.tokens = burst
  }

  get limit(): number {
    return this.rate
  }

  /** Waits until `n` bytes may pass; rejects with an AbortError if `signal` fires first. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.rate === 0) return
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000) - n
    this.last = now
    if (this.tokens < 0) await sleep((-this.tokens / this.rate) * 1000, undefined, { signal })
  }
}
