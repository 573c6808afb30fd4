import type { Source } from '@shoal/protocol'
import { alignedBits, hasBit, overlaps } from './bits.js'
import type { FindResult, PeerKey } from './chunk-index.js'
import { KeepSmallest } from './keep-smallest.js'
import { PARTIAL, SEEDER } from './swarm.js'
import type { Member, Swarm } from './swarm.js'

/** How many rarest chunk indices a find answer lists. */
export const RAREST_LIMIT = 64
/** Chunk indices stay below 2^18 (MAX_CHUNKS), so availability and index pack into one exact number. */
const CHUNK_SPAN = 2 ** 18

export interface FindPolicy {
  /** Members examined per group (seeders, partial holders) in one find. */
  scanLimit: number
  random: () => number
}

/** Up to `limit` wanted chunks with at least one holder, fewest holders first, then lowest index. */
export function rarestChunks(availability: Uint32Array, wanted: Uint8Array, limit = RAREST_LIMIT): number[] {
  const kept = new KeepSmallest<number>(limit)
  for (let b = 0; b < wanted.length; b++) {
    let v = wanted[b]
    while (v !== 0) {
      const k = Math.clz32(v) - 24
      v ^= 0x80 >>> k
      const chunk = (b << 3) | k
      const holders = availability[chunk]
      if (holders !== 0) kept.offer(holders * CHUNK_SPAN + chunk, chunk)
    }
  }
  return kept.sorted()
}

/**
 * Picks sources for `wanted` (wire bytes already checked against the swarm's chunk count).
 * A member's rank is the holder count of the rarest listed chunk it holds (members holding
 * none of the listed ones, when the list is full, rank just after them); then lower load;
 * then random. Each group is examined from a random offset, at most scanLimit members, so
 * the cost is bounded and repeated finds spread over large swarms; in swarms within the
 * limit the answer is exact.
 */
export function findSources(swarm: Swarm, asker: PeerKey | undefined, wanted: Uint8Array, max: number, policy: FindPolicy): FindResult {
  const rarest = rarestChunks(swarm.availability, wanted)
  if (rarest.length === 0 || max === 0) return { peers: [], rarest }
  const want = alignedBits(wanted.length, wanted)
  const rankOf = rankFunction(swarm, rarest, want.words)
  const best = new KeepSmallest<Member>(max)
  const offer = (member: Member): void => {
    if (member.banned || member.peer.key === asker) return
    const rank = rankOf(member)
    if (rank < 0) return
    const load = Math.round(member.peer.load * 1023)
    best.offer(rank * 2 ** 20 + load * 1024 + Math.floor(policy.random() * 1024), member)
  }
  sample(swarm.groups[SEEDER], policy, offer)
  sample(swarm.groups[PARTIAL], policy, offer)
  return { peers: toSources(best.sorted(), want.words, wanted.length), rarest }
}

/** A member's rank for this query, or -1 when it holds no wanted chunk. */
function rankFunction(swarm: Swarm, rarest: number[], want: Uint32Array): (m: Member) => number {
  const holders = rarest.map((chunk) => swarm.availability[chunk])
  const unlisted = rarest.length === RAREST_LIMIT ? holders[holders.length - 1] + 1 : -1
  return (member) => {
    if (member.group === SEEDER) return holders[0]
    const bytes = member.held.bytes
    for (let k = 0; k < rarest.length; k++) if (hasBit(bytes, rarest[k])) return holders[k]
    return unlisted >= 0 && overlaps(member.words, want) ? unlisted : -1
  }
}

function sample(group: Member[], policy: FindPolicy, visit: (m: Member) => void): void {
  const n = group.length
  const count = Math.min(n, policy.scanLimit)
  let i = n <= policy.scanLimit ? 0 : Math.floor(policy.random() * n)
  for (let seen = 0; seen < count; seen++) {
    visit(group[i])
    if (++i === n) i = 0
  }
}

function toSources(members: Member[], want: Uint32Array, byteLength: number): Source[] {
  const words = want.length
  const all = new Uint32Array(words * members.length)
  return members.map((m, j) => {
    const base = j * words
    for (let i = 0; i < words; i++) all[base + i] = m.words[i] & want[i]
    const { peerId, host, port, load } = m.peer
    return { peerId, host, port, load, chunks: new Uint8Array(all.buffer, base * 4, byteLength) }
  })
}
