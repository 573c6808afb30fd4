import { Ring } from './ring.js'

export interface LiveFigures {
  peersOnline: number
  contents: number
  chunkReplicas: number
  connections: number
}

export interface HistorySample extends LiveFigures {
  /** Milliseconds since the epoch. */
  time: number
  messagesPerSecond: number
}

/**
 * Turns the cumulative message counter into a one-minute rate (a ring of per-tick deltas)
 * and keeps an hour of per-minute samples (a ring of snapshots) for charts. Costs O(1)
 * per tick; nothing on the message path.
 */
export class StatsSampler {
  private readonly deltas = new Ring<number>(60)
  private readonly history = new Ring<HistorySample>(60)
  private lastTotal: number
  private ticks = 0

  constructor(
    private readonly readTotal: () => number,
    private readonly readFigures: () => LiveFigures,
    private readonly tickMs: number,
    /** Ticks between history samples: a minute at the default one-second tick. */
    private readonly ticksPerSample = 60,
  ) {
    this.lastTotal = readTotal()
  }

  tick(): void {
    const total = this.readTotal()
    this.deltas.push(total - this.lastTotal)
    this.lastTotal = total
    if (++this.ticks % this.ticksPerSample === 0) {
      this.history.push({ time: Date.now(), ...this.readFigures(), messagesPerSecond: this.messagesPerSecond() })
    }
  }

  /** Messages per second over the last minute (or since start, if younger). */
  messagesPerSecond(): number {
    const deltas = this.deltas.toArray()
    if (deltas.length === 0) return 0
    const sum = deltas.reduce((a, b) => a + b, 0)
    return sum / ((deltas.length * this.tickMs) / 1000)
  }

  samples(): HistorySample[] {
    return this.history.toArray()
  }
}
