import { Bitfield, bytesEqual } from '@shoal/protocol'
import { BitMatrix } from './bit-matrix.js'
import { forEachSetBit } from './bits.js'
import { ChunkAvailability } from './chunk-availability.js'
import type { ContentKey, ContentStats, IndexPeer, PeerKey } from './chunk-index.js'
import { WordScratch } from './word-scratch.js'

/** A peer as the in-memory index keeps it. */
export interface PeerRecord extends IndexPeer {
  load: number
  swarms: Map<ContentKey, Member>
}

/** One peer's place in one swarm. */
export interface Member {
  readonly peer: PeerRecord
  readonly swarm: Swarm
  /** Its column in the swarm's `bits`; moves when another member leaves. */
  col: number
  /** Chunks it holds. */
  count: number
  group: number
  /** Position in its group's array, for O(1) swap-removal. */
  slot: number
}

// A member's tag in its swarm's BitMatrix: what a find needs of it besides its chunks.
/** Its peer's upload load (0 to 1) scaled to 0..LOAD_LEVELS. */
export const LOAD_LEVELS = 0x3ff
/** Set once enough members reported it. */
export const BANNED = 0x400

/** Clamped, so no load (the codec admits 0 to 1) can spill into the ban flag. */
function loadLevel(load: number): number {
  return Math.round(Math.min(1, Math.max(0, load)) * LOAD_LEVELS)
}

const scratch = new WordScratch()

/** Members by what they can serve: nothing, some chunks, every chunk. */
export const EMPTY = 0
export const PARTIAL = 1
export const SEEDER = 2

export interface SwarmPolicy {
  /** Chunks with fewer holders count as under-replicated. */
  replicationTarget: number
  /** Distinct reporters after which a member is no longer handed out. */
  banThreshold: number
}

/**
 * What a swarm remembers of reports, at most: reports come only from members about members,
 * but peer ids are free, so without a bound churning connections could grow these for ever.
 */
export const MAX_REPORTED = 4096
export const MAX_BANS = 4096

/**
 * The peers of one content and, per chunk, how many of them hold it. Availability changes
 * incrementally with every bit that flips, so statistics never walk the members.
 */
export class Swarm {
  readonly chunks: ChunkAvailability
  /** Every member's bitfield, a column each. */
  readonly bits: BitMatrix
  /** Members' columns by group, each group in no set order. */
  readonly groups: readonly [number[], number[], number[]] = [[], [], []]
  replicas = 0
  /** Its place among swarms by peer count (see SizeRanking). */
  rankSlot = 0
  /**
   * Reports short of a ban: target peer → its distinct reporters. At most MAX_REPORTED
   * targets, the oldest forgotten first.
   */
  private reports: Map<PeerKey, Set<PeerKey>> | undefined
  /** Banned peers; a ban outlives leaving and rejoining while the swarm lives. At most MAX_BANS, oldest forgotten first. */
  private banned: Set<PeerKey> | undefined
  /** The member owning each column of `bits`. */
  private readonly byCol: Member[] = []

  /** `totals.replicas` is the index-wide replica count, kept alongside this swarm's own. */
  constructor(readonly content: ContentKey, readonly chunkCount: number, private readonly policy: SwarmPolicy, private readonly totals: { replicas: number }) {
    this.chunks = new ChunkAvailability(chunkCount)
    this.bits = new BitMatrix((this.byteLength + 3) >>> 2)
  }

  get availability(): Uint32Array {
    return this.chunks.counts
  }

  get size(): number {
    return this.groups[EMPTY].length + this.groups[PARTIAL].length + this.groups[SEEDER].length
  }

  get byteLength(): number {
    return (this.chunkCount + 7) >>> 3
  }

  /** Adds a member holding `wire` (already checked against chunkCount). */
  join(peer: PeerRecord, wire: Uint8Array): Member {
    const tag = loadLevel(peer.load) | (this.isBanned(peer.key) ? BANNED : 0)
    const member: Member = { peer, swarm: this, col: this.bits.add(wire, tag), count: 0, group: EMPTY, slot: 0 }
    this.byCol.push(member)
    this.chunks.reserve(this.size + 1)
    forEachSetBit(wire, (chunk) => {
      member.count++
      this.increment(chunk)
    })
    this.place(member)
    return member
  }

  leave(member: Member): void {
    forEachSetBit(this.bitfieldOf(member), (chunk) => this.decrement(chunk))
    this.unplace(member)
    const last = this.byCol.pop() as Member
    if (this.bits.remove(member.col) >= 0) {
      last.col = member.col
      this.byCol[member.col] = last
      this.groups[last.group][last.slot] = last.col
    }
  }

  /** The member in column `col`. */
  memberAt(col: number): Member {
    return this.byCol[col]
  }

  /** Every member, in no set order: a copy, so members can leave while it is walked. */
  members(): Member[] {
    return this.byCol.slice()
  }

  setLoad(member: Member, load: number): void {
    this.bits.setTag(member.col, (this.bits.tag(member.col) & BANNED) | loadLevel(load))
  }

  /** Makes the member hold exactly `wire`'s chunks (already checked), touching only those that change. */
  replace(member: Member, wire: Uint8Array): void {
    const held = this.bitfieldOf(member)
    // Most contents of a resync are unchanged: those cost one comparison.
    if (bytesEqual(held, wire)) return
    const gained = new Uint8Array(wire.length)
    const lost = new Uint8Array(wire.length)
    for (let b = 0; b < wire.length; b++) {
      gained[b] = wire[b] & ~held[b]
      lost[b] = held[b] & ~wire[b]
    }
    this.add(member, new Bitfield(this.chunkCount, gained).toArray())
    this.remove(member, new Bitfield(this.chunkCount, lost).toArray())
  }

  /** Chunk indices must already be checked against chunkCount. */
  add(member: Member, chunks: readonly number[]): void {
    for (let i = 0; i < chunks.length; i++) {
      if (this.bits.set(member.col, chunks[i])) {
        member.count++
        this.increment(chunks[i])
      }
    }
    this.regroup(member)
  }

  remove(member: Member, chunks: readonly number[]): void {
    for (let i = 0; i < chunks.length; i++) {
      if (this.bits.clear(member.col, chunks[i])) {
        member.count--
        this.decrement(chunks[i])
      }
    }
    this.regroup(member)
  }

  /** The member's wire bitfield, in scratch valid until the next call. */
  bitfieldOf(member: Member): Uint8Array {
    this.bits.copy(member.col, scratch.take(this.byteLength))
    return scratch.bytes
  }

  report(reporter: PeerKey, target: Member): void {
    const key = target.peer.key
    if (this.isBanned(key)) return
    this.reports ??= new Map()
    let reporters = this.reports.get(key)
    if (reporters === undefined) {
      this.reports.set(key, (reporters = new Set()))
      if (this.reports.size > MAX_REPORTED) this.reports.delete(this.reports.keys().next().value as PeerKey)
    }
    reporters.add(reporter)
    if (reporters.size < this.policy.banThreshold) return
    this.reports.delete(key)
    this.banned ??= new Set()
    this.banned.add(key)
    if (this.banned.size > MAX_BANS) this.banned.delete(this.banned.values().next().value as PeerKey)
    this.bits.setTag(target.col, this.bits.tag(target.col) | BANNED)
  }

  stats(): ContentStats {
    return {
      peers: this.size,
      seeders: this.groups[SEEDER].length,
      chunkCount: this.chunkCount,
      availability: { min: this.chunks.min(), mean: this.chunkCount === 0 ? 0 : this.replicas / this.chunkCount },
      underReplicatedChunks: this.chunks.countBelow(this.policy.replicationTarget),
    }
  }

  private isBanned(peer: PeerKey): boolean {
    return this.banned?.has(peer) === true
  }

  private increment(chunk: number): void {
    this.chunks.increment(chunk)
    this.replicas++
    this.totals.replicas++
  }

  private decrement(chunk: number): void {
    this.chunks.decrement(chunk)
    this.replicas--
    this.totals.replicas--
  }

  private groupOf(member: Member): number {
    const count = member.count
    if (count === this.chunkCount) return SEEDER
    return count === 0 ? EMPTY : PARTIAL
  }

  private place(member: Member): void {
    member.group = this.groupOf(member)
    const group = this.groups[member.group]
    member.slot = group.length
    group.push(member.col)
  }

  private unplace(member: Member): void {
    const group = this.groups[member.group]
    const last = group.pop() as number
    if (last !== member.col) {
      group[member.slot] = last
      this.byCol[last].slot = member.slot
    }
  }

  private regroup(member: Member): void {
    if (this.groupOf(member) === member.group) return
    this.unplace(member)
    this.place(member)
  }
}
