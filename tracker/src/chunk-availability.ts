import { lastAtOrBefore } from '@shoal/protocol'
import { hasBit } from './bits.js'

const NOTHING = new Uint32Array(0)

/**
 * How many holders each chunk of one content has, plus every chunk kept in an array sorted
 * by that count. A count only ever moves by one, and moving a chunk to the neighbouring
 * bucket is one swap with that bucket's edge, so the order stays sorted in O(1) per change.
 * The rarest wanted chunks are then a short walk from the rare end, and bucket edges give
 * the minimum and the under-replicated count without looking at chunks at all.
 *
 * The three per-chunk arrays (12 bytes a chunk) are allocated when a chunk first gets a
 * holder: a content whose peers hold nothing yet (downloaders, or claims of huge contents
 * nobody has) costs no more than its bucket edges, which say all that is needed then.
 */
export class ChunkAvailability {
  /** Holders per chunk; empty until a chunk first has a holder. */
  private held = NOTHING
  /** Chunk indices, fewest holders first. */
  private order = NOTHING
  /** Where each chunk sits in `order`. */
  private position = NOTHING
  /** starts[a]: index in `order` of the first chunk with at least `a` holders. */
  private starts: Uint32Array

  constructor(readonly chunkCount: number) {
    this.starts = new Uint32Array(8).fill(chunkCount)
    this.starts[0] = 0
  }

  /** Holders per chunk (a fresh array of zeros while no chunk has a holder). */
  get counts(): Uint32Array {
    return this.held.length === this.chunkCount ? this.held : new Uint32Array(this.chunkCount)
  }

  /** Makes room for counts up to `holders`. */
  reserve(holders: number): void {
    if (holders + 2 <= this.starts.length) return
    const grown = new Uint32Array(Math.max(holders + 2, this.starts.length * 2)).fill(this.chunkCount)
    grown.set(this.starts)
    this.starts = grown
  }

  increment(chunk: number): void {
    if (this.held.length !== this.chunkCount) this.allocate()
    const a = this.held[chunk]++
    // The last slot of bucket a becomes the first of bucket a + 1.
    this.swap(chunk, this.order[--this.starts[a + 1]])
  }

  decrement(chunk: number): void {
    const a = this.held[chunk]--
    // The first slot of bucket a becomes the last of bucket a - 1.
    this.swap(chunk, this.order[this.starts[a]++])
  }

  /** The smallest holder count over all chunks (0 for a content without chunks). */
  min(): number {
    return this.chunkCount > 0 && this.starts[1] === 0 ? this.held[this.order[0]] : 0
  }

  /** Chunks with fewer than `holders` holders. */
  countBelow(holders: number): number {
    return holders < this.starts.length ? this.starts[holders] : this.chunkCount
  }

  /**
   * Up to `limit` chunks of `wanted` that have holders, fewest holders first, with each one's
   * holder count in `holders` (read off the bucket edges, not from the scattered per-chunk
   * counts). Walks the sorted order from the first held chunk, at most `budget` steps;
   * returns undefined when the budget ran out first (wanted is too sparse for the walk to pay off).
   * A chunk's bucket is found by binary search over the edges: in a swarm of 10,000 peers the
   * rarest chunks have thousands of holders, and stepping up to that bucket edge by edge made
   * the walk cost O(peers).
   */
  rarestByOrder(wanted: Uint8Array, limit: number, budget: number, holders: Uint32Array): number[] | undefined {
    // Sized once: growing by push reallocated the backing store three times on the way to 64.
    const out = new Array<number>(limit)
    let count = 0
    const { order, starts } = this
    const end = Math.min(this.chunkCount, starts[1] + budget)
    let bucket = 1
    for (let i = starts[1]; i < end; i++) {
      const chunk = order[i]
      if (hasBit(wanted, chunk)) {
        if (bucket + 1 < starts.length && i >= starts[bucket + 1]) bucket = lastAtOrBefore(starts, i, bucket + 1)
        holders[count] = bucket
        out[count++] = chunk
        if (count === limit) return out
      }
    }
    if (end !== this.chunkCount) return undefined
    out.length = count
    return out
  }

  private allocate(): void {
    this.held = new Uint32Array(this.chunkCount)
    this.order = new Uint32Array(this.chunkCount)
    this.position = new Uint32Array(this.chunkCount)
    for (let i = 0; i < this.chunkCount; i++) this.order[i] = this.position[i] = i
  }

  private swap(chunk: number, other: number): void {
    const at = this.position[chunk]
    const to = this.position[other]
    this.order[at] = other
    this.position[other] = at
    this.order[to] = chunk
    this.position[chunk] = to
  }
}
