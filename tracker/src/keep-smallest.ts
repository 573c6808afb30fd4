/**
 * Keeps the `capacity` entries with the smallest numeric keys seen so far: a max-heap
 * whose root is the worst kept entry, so a worse offer is refused in O(1).
 */
export class KeepSmallest<T> {
  private readonly keys: Float64Array
  /** Fixed at `room` slots, emptied slot by slot: truncating and regrowing it cost an allocation per use. */
  private readonly values: (T | undefined)[]
  private length = 0
  private capacity: number

  /** `room` is the most entries it will ever be asked to keep. */
  constructor(room: number) {
    this.keys = new Float64Array(room)
    this.values = new Array<T | undefined>(room).fill(undefined)
    this.capacity = room
  }

  /** Empties it, to keep at most `capacity` (≤ room) entries from now on. */
  clear(capacity: number): void {
    this.values.fill(undefined, 0, this.length)
    this.length = 0
    this.capacity = capacity
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

  /** Empties the heap, returning `map` of each kept value, smallest key first. */
  drain<U>(map: (value: T) => U): U[] {
    const out = new Array<U>(this.length)
    while (this.length > 0) {
      out[this.length - 1] = map(this.values[0] as T)
      const last = --this.length
      this.keys[0] = this.keys[last]
      this.values[0] = this.values[last]
      this.values[last] = undefined
      this.siftDown(0)
    }
    return out
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
