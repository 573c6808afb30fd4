import { InvalidArgumentError } from '@shoal/protocol'

export interface BackoffInit {
  /** First delay cap, ms. */
  initialMs: number
  /** Largest delay cap, ms. */
  maxMs: number
  random?: () => number
}

/**
 * Exponential backoff with full jitter: the n-th wait is uniform in
 * [0, min(max, initial·2ⁿ)], which spreads a crowd of reconnecting peers out instead of
 * having them return in waves. `reset` after a success.
 */
export class Backoff {
  private attempt = 0
  private readonly random: () => number

  constructor(private readonly init: BackoffInit) {
    if (!(init.initialMs > 0)) throw new InvalidArgumentError('initialMs', 'must be positive')
    if (!(init.maxMs >= init.initialMs)) throw new InvalidArgumentError('maxMs', 'must be at least initialMs')
    this.random = init.random ?? Math.random
  }

  next(): number {
    const cap = Math.min(this.init.maxMs, this.init.initialMs * 2 ** Math.min(this.attempt, 30))
    this.attempt++
    return Math.floor(this.random() * cap)
  }

  reset(): void {
    this.attempt = 0
  }
}
