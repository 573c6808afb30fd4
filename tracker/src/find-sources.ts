import { MAX_SOURCES } from '@shoal/protocol'
import type { Source } from '@shoal/protocol'
import { bitOf, wordOf } from './bit-matrix.js'
import type { BitMatrix } from './bit-matrix.js'
import type { FindResult } from './chunk-index.js'
import { KeepSmallest } from './keep-smallest.js'
import { BANNED, LOAD_LEVELS, PARTIAL, SEEDER } from './swarm.js'
import type { Swarm } from './swarm.js'
import { WordScratch } from './word-scratch.js'

/** How many rarest chunk indices a find answer lists. */
export const RAREST_LIMIT = 64
/** Chunk indices stay below 2^18 (MAX_CHUNKS), so availability and index pack into one exact number. */
const CHUNK_SPAN = 2 ** 18

/** A source's `chunks` when the find did not ask for chunk lists. */
const NOT_ASKED = new Uint8Array(0)

export interface FindPolicy {
  /** Most members examined per group (seeders, partial holders) in one find. */
  scanLimit: number
  random: () => number
}

/** Members examined per group for a find of `max` sources: enough to choose well, O(max). */
function sampleSize(max: number, scanLimit: number): number {
  return Math.min(scanLimit, Math.max(16, 2 * max))
}

/** The member groups a find examines, seeders first; the empty group holds nothing to offer. */
const GROUPS_SCANNED = [SEEDER, PARTIAL] as const

const wantedWords = new WordScratch()
// Scratch reused by every find (finds run one at a time): the best members' columns so far,
// and for each listed rarest chunk its holder count, and where its word starts and its bit in
// the swarm's BitMatrix blocks (a block's column 0's index of the word; a member's is that
// plus its column's offset in its block).
const best = new KeepSmallest<number>(MAX_SOURCES)
const rarestHolders = new Uint32Array(RAREST_LIMIT)
const rarestRow = new Uint32Array(RAREST_LIMIT)
const rarestBit = new Int32Array(RAREST_LIMIT)
/** The chunk lists of one answer, a source's after another's; valid until the next find. */
let lists = new Uint32Array(0)
/**
 * Answers whose chunk lists fit in this many words reuse `lists`; a larger one (many sources
 * of a huge content) gets a buffer of its own, so one such find does not pin megabytes.
 */
const LISTS_KEPT = 64 * 1024

/**
 * Picks sources for `wanted` (wire bytes already checked against the swarm's chunk count).
 * A member's rank is the holder count of the rarest listed chunk it holds (members holding
 * none of the listed ones, when the list is full, rank just after them); then lower load;
 * then random. Each group is examined from a random offset, at most sampleSize members, so
 * the cost is O(max) members and repeated finds spread over large swarms; in swarms within
 * the sample the answer is exact. With `chunkLists`, each source's chunks are its held ∧
 * wanted, in scratch valid until the next find; without, they are empty. `askerCol` is the
 * asking member's column, or -1. Members are looked at through their columns alone (chunks
 * and tag): reading each member's object was a cache miss apiece at 10,000 peers.
 */
export function findSources(swarm: Swarm, askerCol: number, wanted: Uint8Array, max: number, chunkLists: boolean, policy: FindPolicy): FindResult {
  const rarest = rarestWanted(swarm, wanted, rarestHolders)
  const n = rarest.length
  if (n === 0) return { peers: [], rarest }
  const bits = swarm.bits
  const { blocks, blockShift } = bits
  const offsetMask = bits.blockColumns - 1
  const tags = bits.tagRow
  for (let k = 0; k < n; k++) {
    rarestRow[k] = wordOf(rarest[k]) * bits.width
    rarestBit[k] = bitOf(rarest[k])
  }
  // With a full list, a member may hold only unlisted wanted chunks: it ranks after the listed.
  const unlisted = n === RAREST_LIMIT ? rarestHolders[n - 1] + 1 : -1
  const want = unlisted >= 0 || chunkLists ? wantedWords.load(wanted) : undefined
  const unlistedWant = unlisted >= 0 ? want : undefined
  best.clear(max)
  const sample = sampleSize(max, policy.scanLimit)
  for (const group of GROUPS_SCANNED) {
    const cols = swarm.groups[group]
    const size = cols.length
    const count = Math.min(size, sample)
    let i = size <= sample ? 0 : Math.floor(policy.random() * size)
    for (let seen = 0; seen < count; seen++, i = i + 1 === size ? 0 : i + 1) {
      const col = cols[i]
      const block = blocks[col >>> blockShift]
      const at = col & offsetMask
      const tag = block[tags + at]
      if ((tag & BANNED) !== 0 || col === askerCol) continue
      const rank = group === SEEDER ? rarestHolders[0] : rankOf(block, at, n, unlistedWant, unlisted, bits, col)
      if (rank < 0) continue
      best.offer(rank * 2 ** 20 + (tag & LOAD_LEVELS) * 1024 + Math.floor(policy.random() * 1024), col)
    }
  }
  return { peers: sourcesOf(best.drain(sameCol), swarm, chunkLists ? want : undefined), rarest }
}

/**
 * The holder count of the rarest listed chunk column `col` holds (offset `at` in `block`);
 * `unlisted` or -1 when it holds none.
 */
function rankOf(block: Uint32Array, at: number, n: number, want: Uint32Array | undefined, unlisted: number, bits: BitMatrix, col: number): number {
  for (let k = 0; k < n; k++) if ((block[rarestRow[k] + at] & rarestBit[k]) !== 0) return rarestHolders[k]
  return want !== undefined && bits.overlaps(col, want) ? unlisted : -1
}

function sameCol(col: number): number {
  return col
}

/** The members in the chosen columns as sources; with `want`, each one's chunks are held ∧ want. */
function sourcesOf(chosen: number[], swarm: Swarm, want: Uint32Array | undefined): Source[] {
  const { bits, byteLength } = swarm
  const stride = bits.wordCount
  let into = lists
  if (want !== undefined && into.length < chosen.length * stride) {
    into = new Uint32Array(chosen.length * stride)
    if (into.length <= LISTS_KEPT) lists = into
  }
  const sources = new Array<Source>(chosen.length)
  for (let i = 0; i < chosen.length; i++) {
    const { peerId, host, port, load } = swarm.memberAt(chosen[i]).peer
    let chunks = NOT_ASKED
    if (want !== undefined) {
      bits.copy(chosen[i], into, want, i * stride)
      chunks = new Uint8Array(into.buffer, i * stride * 4, byteLength)
    }
    sources[i] = { peerId, host, port, load, chunks }
  }
  return sources
}

/**
 * The rarest wanted chunks, their holder counts in `holders`: a walk along the swarm's
 * availability order, which ends soon when wanted is dense; if it has not ended within a
 * budget of a quarter of the chunks (sparse wanted), one pass over the wanted bits instead.
 * Either way O(wanted bitfield).
 */
function rarestWanted(swarm: Swarm, wanted: Uint8Array, holders: Uint32Array): number[] {
  return swarm.chunks.rarestByOrder(wanted, RAREST_LIMIT, 2 * wanted.length, holders) ?? rarestChunks(swarm.availability, wanted, RAREST_LIMIT, holders)
}

/** Scratch for rarestChunks: a max-heap of packed (holders, chunk) keys; finds run one at a time. */
let heap = new Float64Array(RAREST_LIMIT)

/**
 * Up to `limit` wanted chunks with at least one holder, fewest holders first (then lowest
 * index), their holder counts in `holders` when given. One pass over the wanted bits keeps
 * the `limit` smallest packed keys in a max-heap; a chunk no better than the worst kept
 * costs one comparison.
 */
export function rarestChunks(availability: Uint32Array, wanted: Uint8Array, limit = RAREST_LIMIT, holders?: Uint32Array): number[] {
  if (heap.length < limit) heap = new Float64Array(limit)
  const h = heap
  let size = 0
  let worst = Infinity
  for (let b = 0; b < wanted.length; b++) {
    let v = wanted[b]
    while (v !== 0) {
      const k = Math.clz32(v) - 24
      v ^= 0x80 >>> k
      const chunk = (b << 3) | k
      const holders = availability[chunk]
      if (holders === 0) continue
      const key = holders * CHUNK_SPAN + chunk
      if (key >= worst) continue
      if (size < limit) {
        siftUp(h, size++, key)
        if (size === limit) worst = h[0]
      } else {
        siftDown(h, size, key)
        worst = h[0]
      }
    }
  }
  const keys = h.slice(0, size).sort()
  if (holders !== undefined) for (let k = 0; k < size; k++) holders[k] = Math.floor(keys[k] / CHUNK_SPAN)
  return Array.from(keys, (key) => key % CHUNK_SPAN)
}

function siftUp(h: Float64Array, at: number, key: number): void {
  while (at > 0) {
    const parent = (at - 1) >>> 1
    if (h[parent] >= key) break
    h[at] = h[parent]
    at = parent
  }
  h[at] = key
}

/** Replaces the root (the largest key) with `key` and restores the heap. */
function siftDown(h: Float64Array, size: number, key: number): void {
  let at = 0
  for (;;) {
    let child = 2 * at + 1
    if (child >= size) break
    if (child + 1 < size && h[child + 1] > h[child]) child++
    if (h[child] <= key) break
    h[at] = h[child]
    at = child
  }
  h[at] = key
}
