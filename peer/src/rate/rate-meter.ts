/**
 * Bytes per second over a sliding window of one-second slots; cheap enough to call on
 * every piece.
 */
export class RateMeter {
  private readonly slots: Float64Array
  private slot = 0
  private slotStart = 0
  private readonly startedAt: number
  total = 0

  constructor(private readonly windowSeconds = 5, private readonly now: () => number = Date.now) {
    this.slots = new Float64Array(windowSeconds)
    this.startedAt = now() / 1000
    this.slotStart = Math.floor(this.startedAt)
  }

  add(bytes: number): void {
    this.advance()
    this.slots[this.slot] += bytes
    this.total += bytes
  }

  /** Average over the window (or since creation, if younger), counting at least a quarter second. */
  get rate(): number {
    this.advance()
    const now = this.now() / 1000
    const span = Math.min(now - this.startedAt, now - this.slotStart + this.windowSeconds - 1)
    let sum = 0
    for (const v of this.slots) sum += v
    return sum / Math.max(span, 0.25)
  }

  private advance(): void {
    const second = Math.floor(this.now() / 1000)
    const steps = Math.min(second - this.slotStart, this.windowSeconds)
    for (let i = 0; i < steps; i++) {
      this.slot = (this.slot + 1) % this.windowSeconds
      this.slots[this.slot] = 0
    }
    if (second > this.slotStart) this.slotStart = second
  }
}
