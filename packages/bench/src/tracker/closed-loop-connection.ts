import type { LoadCounters } from './load-counters.js'
import type { TickCork } from './tick-cork.js'

/**
 * One simulated peer running a closed loop: a fixed number of operations in flight, each
 * answered one replaced by the next. Subclasses say how to register and what an operation is.
 */
export abstract class ClosedLoopConnection {
  private running = false

  constructor(protected readonly counters: LoadCounters, protected readonly cork: TickCork) {}

  abstract register(): Promise<void>

  start(inFlight: number): void {
    this.running = true
    for (let i = 0; i < inFlight; i++) this.issue()
  }

  stop(): void {
    this.running = false
  }

  /** Sends one operation (inside a held cork, so a batch leaves in one write). */
  protected abstract issue(): void

  /** The reply to an operation sent at `sentAt` arrived. */
  protected completed(sentAt: number, bytes: number): void {
    this.counters.replies++
    this.counters.replyBytes += bytes
    this.counters.latency.record(performance.now() - sentAt)
    if (this.running) this.issue()
  }
}
