/** A fixed-size ring: pushing beyond capacity overwrites the oldest entry. */
export class Ring<T> {
  private readonly items: T[] = []
  private next = 0

  constructor(readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item)
    else this.items[this.next] = item
    this.next = (this.next + 1) % this.capacity
  }

  /** The newest `count` entries (fewer if it holds fewer), oldest first. */
  newest(count: number): T[] {
    const all = this.toArray()
    return all.slice(Math.max(0, all.length - count))
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)]
  }
}
