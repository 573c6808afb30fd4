/** Bucket width: 1% steps on a log scale, from 1 µs to over a minute. */
const STEP = Math.log(1.01)
const BUCKETS = 1900

/** A fixed-size log-scale histogram of latencies; merging is adding counts. */
export class LatencyHistogram {
  readonly counts: number[]

  constructor(counts?: number[]) {
    this.counts = counts ?? new Array<number>(BUCKETS).fill(0)
  }

  record(ms: number): void {
    const us = Math.max(1, ms * 1000)
    this.counts[Math.min(BUCKETS - 1, Math.floor(Math.log(us) / STEP))]++
  }

  get total(): number {
    return this.counts.reduce((a, b) => a + b, 0)
  }

  /** The latency in milliseconds below which `p` (0..1) of the samples fall. */
  percentile(p: number): number {
    const target = p * this.total
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]
      if (seen >= target && seen > 0) return Math.exp((i + 0.5) * STEP) / 1000
    }
    return 0
  }
}
