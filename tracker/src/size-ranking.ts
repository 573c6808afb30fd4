/** What a SizeRanking orders: something whose size moves by one at a time. */
export interface Ranked {
  readonly size: number
  /** Position in the ranking; owned by it. */
  rankSlot: number
}

/**
 * Items ordered by size, largest first, kept in buckets of equal size. A size only moves by
 * one, and moving an item into the neighbouring bucket is one swap with that bucket's edge
 * (as in ChunkAvailability), so the order stays sorted in O(1) per change and the N largest
 * are the first N. Items enter and leave at size 0, the end of the order.
 */
export class SizeRanking<T extends Ranked> {
  private readonly order: T[] = []
  /** above[a]: how many items are larger than `a`, which is where bucket `a` starts. */
  private above = new Uint32Array(8)

  /** Adds an item of size 0. */
  add(item: T): void {
    item.rankSlot = this.order.length
    this.order.push(item)
  }

  /** Removes an item of size 0 (swapped with the last, which is in the same bucket). */
  remove(item: T): void {
    const last = this.order.pop() as T
    if (last === item) return
    this.order[item.rankSlot] = last
    last.rankSlot = item.rankSlot
  }

  /** Call right after the item's size grew by one: it becomes the last of the next bucket up. */
  grew(item: T): void {
    const a = item.size - 1
    this.reserve(item.size)
    this.swap(item, this.order[this.above[a]++])
  }

  /** Call right after the item's size shrank by one: it becomes the first of the next bucket down. */
  shrank(item: T): void {
    const a = item.size + 1
    this.swap(item, this.order[--this.above[a - 1]])
  }

  /** The `limit` largest, largest first (equal sizes in no particular order). */
  top(limit: number): T[] {
    return this.order.slice(0, limit)
  }

  private reserve(size: number): void {
    if (size < this.above.length) return
    const grown = new Uint32Array(Math.max(size + 1, this.above.length * 2))
    grown.set(this.above)
    this.above = grown
  }

  private swap(item: T, other: T): void {
    const at = item.rankSlot
    this.order[at] = other
    this.order[other.rankSlot] = item
    item.rankSlot = other.rankSlot
    other.rankSlot = at
  }
}
