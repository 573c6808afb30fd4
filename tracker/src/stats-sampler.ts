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
  /** Over the interval the sample closes (10 ticks for the recent series, 60 for the history). */
  messagesPerSecond: number
}

/** Ticks between samples of each series, and samples kept: 10 min by 10 s, an hour by the minute, at the default 1 s tick. */
const RECENT_TICKS = 10
const HISTORY_TICKS = 60
const KEPT = 60

/**
 * Turns the cumulative message counter into rates (a ring of per-tick deltas) and keeps two
 * series of snapshots for charts: a recent one at high resolution, useful right after start,
 * and an hour's. Fixed memory; O(1) per tick; nothing on the message path.
 */
export class StatsSampler {
  private readonly deltas = new Ring<number>(HISTORY_TICKS)
  private readonly recentSamples = new Ring<HistorySample>(KEPT)
  private readonly historySamples = new Ring<HistorySample>(KEPT)
  private lastTotal: number
  private ticks = 0

  constructor(
    private readonly readTotal: () => number,
    private readonly readFigures: () => LiveFigures,
    private readonly tickMs: number,
  ) {
    this.lastTotal = readTotal()
  }

  tick(): void {
    const total = this.readTotal()
    this.deltas.push(total - this.lastTotal)
    this.lastTotal = total
    this.ticks++
    if (this.ticks % RECENT_TICKS === 0) this.recentSamples.push(this.sample(RECENT_TICKS))
    if (this.ticks % HISTORY_TICKS === 0) this.historySamples.push(this.sample(HISTORY_TICKS))
  }

  /** Messages per second over the last `ticks` ticks (a minute by default), or since start if younger. */
  messagesPerSecond(ticks = HISTORY_TICKS): number {
    const deltas = this.deltas.newest(ticks)
    if (deltas.length === 0) return 0
    const sum = deltas.reduce((a, b) => a + b, 0)
    return sum / ((deltas.length * this.tickMs) / 1000)
  }

  /** Every 10 ticks, the last 60, oldest first. */
  recent(): HistorySample[] {
    return this.recentSamples.toArray()
  }

  /** Every 60 ticks, the last 60, oldest first. */
  history(): HistorySample[] {
    return this.historySamples.toArray()
  }

  private sample(ticks: number): HistorySample {
    return { time: Date.now(), ...this.readFigures(), messagesPerSecond: this.messagesPerSecond(ticks) }
  }
}
