import { LatencyHistogram } from './latency-histogram.js'

/** What the generator counts between marks. */
export class LoadCounters {
  sent = 0
  replies = 0
  errors = 0
  replyBytes = 0
  latency = new LatencyHistogram()

  reset(): void {
    this.sent = 0
    this.replies = 0
    this.errors = 0
    this.replyBytes = 0
    this.latency = new LatencyHistogram()
  }
}
