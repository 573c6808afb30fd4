/**
 * Keeps the `capacity` entries with the smallest numeric keys seen so far: a max-heap
 * whose root is the worst kept entry, so a worse offer is refused in O(1).
 */
export class KeepSmallest<T> {
  private readonly keys: Float64Array
  private readonly values: T[] = []
  private length = 0

  constructor(readonly capacity: number) {
    this.keys = new Float64Array(capacity)
  }

  offer(key: number, value: T): void {
    if (this.length < this.capacity) {
      this.keys[this.length] = key
      this.values[this.length] = value
      this.siftUp(this.length++)
    } else if (this.capacity > 0 && key < this.keys[0]) {
      this.keys[0] = key
      this.values[0] = value
      this.siftDown(0)
    }
  }

  /** The kept values, smallest key first. */
  sorted(): T[] {
    const order = Array.from({ length: this.length }, (_, i) => i)
    order.sort((a, b) => this.keys[a] - this.keys[b])
    return order.map((i) => this.values[i])
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >>> 1
      if (this.keys[parent] >= this.keys[i]) return
      this.swap(i, parent)
      i = parent
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let largest = i
      if (left < this.length && this.keys[left] > this.keys[largest]) largest = left
      if (right < this.length && this.keys[right] > this.keys[largest]) largest = right
      if (largest === i) return
      this.swap(i, largest)
      i = largest
    }
  }

  private swap(a: number, b: number): void {
    const k = this.keys[a]
    this.keys[a] = this.keys[b]
    this.keys[b] = k
    const v = this.values[a]
    this.values[a] = this.values[b]
    this.values[b] = v
  }
}
