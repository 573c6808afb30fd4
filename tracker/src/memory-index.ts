import { BadMessageError, Bitfield, ErrorCode, MAX_REGISTER_CONTENTS, ShoalError } from '@shoal/protocol'
import type { ChunkIndex, ChunkIndexOptions, ContentKey, ContentStats, FindResult, IndexHolding, IndexPeer, IndexStats, PeerKey, SharedContent } from './chunk-index.js'
import { findSources } from './find-sources.js'
import { intOption } from './option-checks.js'
import { SizeRanking } from './size-ranking.js'
import { Swarm } from './swarm.js'
import type { Member, PeerRecord } from './swarm.js'

/** The single-process ChunkIndex: everything in memory, every operation synchronous. */
export class MemoryChunkIndex implements ChunkIndex {
  private readonly peers = new Map<PeerKey, PeerRecord>()
  private readonly swarms = new Map<ContentKey, Swarm>()
  /** Swarms by peer count, kept sorted as peers join and leave. */
  private readonly ranking = new SizeRanking<Swarm>()
  private readonly knownChunkCount: (content: ContentKey) => number | undefined
  private readonly maxContentsPerPeer: number
  private readonly maxIndexedChunks: number
  private readonly maxChunksPerPeer: number
  private readonly policy: { replicationTarget: number; banThreshold: number; scanLimit: number; random: () => number }
  private readonly defaultFindMax: number
  private indexedChunks = 0
  private readonly totals = { replicas: 0 }

  constructor(options: ChunkIndexOptions = {}) {
    this.knownChunkCount = options.knownChunkCount ?? (() => undefined)
    this.maxContentsPerPeer = intOption('maxContentsPerPeer', options.maxContentsPerPeer, 1000, 1, MAX_REGISTER_CONTENTS)
    this.maxIndexedChunks = intOption('maxIndexedChunks', options.maxIndexedChunks, 2 ** 25, 1)
    this.maxChunksPerPeer = intOption('maxChunksPerPeer', options.maxChunksPerPeer, 2 ** 24, 1)
    this.defaultFindMax = intOption('defaultFindMax', options.defaultFindMax, 20, 1, 200)
    this.policy = {
      replicationTarget: intOption('replicationTarget', options.replicationTarget, 3, 1, 1000),
      banThreshold: intOption('banThreshold', options.banThreshold, 3, 1, 1000),
      scanLimit: intOption('findScanLimit', options.findScanLimit, 256, 1),
      random: options.random ?? Math.random,
    }
  }

  /**
   * A resync replaces what the peer holds, in place: a content it still holds with the same
   * chunk count keeps its membership and changes only the chunks that differ, so sharing
   * one more file does not rebuild every swarm the peer is in. Its last reported load stands.
   */
  register(peer: IndexPeer, holdings: readonly IndexHolding[]): void {
    this.checkHoldings(peer.key, holdings)
    let record = this.peers.get(peer.key)
    if (record === undefined) {
      record = { key: peer.key, peerId: peer.peerId, host: peer.host, port: peer.port, load: 0, swarms: new Map() }
      this.peers.set(peer.key, record)
    } else {
      Object.assign(record, { peerId: peer.peerId, host: peer.host, port: peer.port })
      const kept = new Map(holdings.map((h) => [h.content, h.chunkCount]))
      for (const [content, member] of record.swarms) {
        if (kept.get(content) !== member.swarm.chunkCount) this.leave(record, content, member)
      }
    }
    for (const h of holdings) {
      const member = record.swarms.get(h.content)
      if (member === undefined) this.join(record, h.content, h.chunkCount, h.bitfield)
      else member.swarm.replace(member, h.bitfield)
    }
  }

  have(peer: PeerKey, content: ContentKey, chunks: readonly number[]): void {
    const member = this.memberOf(peer, content)
    checkChunks(chunks, member.swarm.chunkCount)
    member.swarm.add(member, chunks)
  }

  lost(peer: PeerKey, content: ContentKey, chunks: readonly number[]): void {
    const member = this.memberOf(peer, content)
    checkChunks(chunks, member.swarm.chunkCount)
    member.swarm.remove(member, chunks)
  }

  unregister(peer: PeerKey, content: ContentKey): void {
    const record = this.peerRecord(peer)
    const member = record.swarms.get(content)
    if (member !== undefined) this.leave(record, content, member)
  }

  drop(peer: PeerKey): boolean {
    const record = this.peers.get(peer)
    if (record === undefined) return false
    for (const [content, member] of record.swarms) this.leave(record, content, member)
    this.peers.delete(peer)
    return true
  }

  setLoad(peer: PeerKey, load: number): void {
    const record = this.peerRecord(peer)
    record.load = load
    for (const member of record.swarms.values()) member.swarm.setLoad(member, load)
  }

  report(reporter: PeerKey, content: ContentKey, target: PeerKey): void {
    const reporterMember = this.peerRecord(reporter).swarms.get(content)
    const targetMember = this.peers.get(target)?.swarms.get(content)
    // Only a member can have fetched from another member; anything else is noise.
    if (reporterMember === undefined || targetMember === undefined || reporter === target) return
    targetMember.swarm.report(reporter, targetMember)
  }

  find(asker: PeerKey | undefined, content: ContentKey, wanted: Uint8Array, max: number, chunkLists: boolean): FindResult {
    // Usually the asker is a member: its entry leads to the swarm, with no second lookup.
    const askerMember = asker === undefined ? undefined : this.peers.get(asker)?.swarms.get(content)
    const swarm = askerMember?.swarm ?? this.swarms.get(content)
    if (swarm === undefined) return { peers: [], rarest: [] }
    Bitfield.check(swarm.chunkCount, wanted)
    return findSources(swarm, askerMember?.col ?? -1, wanted, max === 0 ? this.defaultFindMax : max, chunkLists, this.policy)
  }

  removeContent(content: ContentKey): void {
    const swarm = this.swarms.get(content)
    if (swarm === undefined) return
    for (const member of swarm.members()) this.leave(member.peer, content, member)
  }

  chunkCountOf(content: ContentKey): number | undefined {
    return this.swarms.get(content)?.chunkCount
  }

  stats(): IndexStats {
    return { peersOnline: this.peers.size, contents: this.swarms.size, chunkReplicas: this.totals.replicas }
  }

  contentStats(content: ContentKey): ContentStats | undefined {
    return this.swarms.get(content)?.stats()
  }

  mostShared(limit: number): SharedContent[] {
    return this.ranking.top(limit).map((swarm) => ({ content: swarm.content, ...swarm.stats() }))
  }

  availability(content: ContentKey): number[] | undefined {
    const swarm = this.swarms.get(content)
    return swarm === undefined ? undefined : Array.from(swarm.availability)
  }

  holdings(peer: PeerKey): IndexHolding[] | undefined {
    const record = this.peers.get(peer)
    if (record === undefined) return undefined
    return [...record.swarms].map(([content, m]) => ({ content, chunkCount: m.swarm.chunkCount, bitfield: Uint8Array.from(m.swarm.bitfieldOf(m)) }))
  }

  members(content: ContentKey): PeerKey[] {
    const swarm = this.swarms.get(content)
    return swarm === undefined ? [] : swarm.members().map((m) => m.peer.key)
  }

  private memberOf(peer: PeerKey, content: ContentKey): Member {
    const member = this.peerRecord(peer).swarms.get(content)
    if (member === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, 'this peer has not registered that content')
    return member
  }

  private peerRecord(peer: PeerKey): PeerRecord {
    const record = this.peers.get(peer)
    if (record === undefined) throw new ShoalError(ErrorCode.NOT_REGISTERED, 'peer is not registered')
    return record
  }

  /**
   * Every check of a register, before anything changes. The peer's current entries are
   * about to be replaced, so swarms it is the sole member of do not constrain it.
   */
  private checkHoldings(peer: PeerKey, holdings: readonly IndexHolding[]): void {
    const previous = this.peers.get(peer)
    const survives = (swarm: Swarm | undefined, content: ContentKey): swarm is Swarm =>
      swarm !== undefined && !(swarm.size === 1 && previous?.swarms.has(content) === true)
    const seen = new Set<ContentKey>()
    let added = 0
    let claimed = 0
    for (const h of holdings) {
      if (seen.has(h.content)) throw new BadMessageError(`content ${h.content} is listed twice`)
      seen.add(h.content)
      const swarm = this.swarms.get(h.content)
      for (const expected of [survives(swarm, h.content) ? swarm.chunkCount : undefined, this.knownChunkCount(h.content)]) {
        if (expected !== undefined && expected !== h.chunkCount) {
          throw new BadMessageError(`content ${h.content} has ${expected} chunks, not ${h.chunkCount}`)
        }
      }
      Bitfield.check(h.chunkCount, h.bitfield)
      if (!survives(swarm, h.content)) added += h.chunkCount
      claimed += h.chunkCount
    }
    if (holdings.length > this.maxContentsPerPeer) {
      throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, `a peer may be in at most ${this.maxContentsPerPeer} contents`)
    }
    // The shared budget below is not one peer's to take.
    if (claimed > this.maxChunksPerPeer) {
      throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, `a peer's contents may have at most ${this.maxChunksPerPeer} chunks together`)
    }
    let freed = 0
    for (const { swarm } of previous?.swarms.values() ?? []) if (swarm.size === 1) freed += swarm.chunkCount
    if (this.indexedChunks - freed + added > this.maxIndexedChunks) {
      throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, 'the tracker indexes no more contents for now')
    }
  }

  private join(record: PeerRecord, content: ContentKey, chunkCount: number, bitfield: Uint8Array): Member {
    let swarm = this.swarms.get(content)
    if (swarm === undefined) {
      swarm = new Swarm(content, chunkCount, this.policy, this.totals)
      this.swarms.set(content, swarm)
      this.ranking.add(swarm)
      this.indexedChunks += chunkCount
    }
    const member = swarm.join(record, bitfield)
    this.ranking.grew(swarm)
    record.swarms.set(content, member)
    return member
  }

  private leave(record: PeerRecord, content: ContentKey, member: Member): void {
    const swarm = member.swarm
    swarm.leave(member)
    this.ranking.shrank(swarm)
    record.swarms.delete(content)
    if (swarm.size === 0) {
      this.swarms.delete(content)
      this.ranking.remove(swarm)
      this.indexedChunks -= swarm.chunkCount
    }
  }
}

function checkChunks(chunks: readonly number[], chunkCount: number): void {
  for (let i = 0; i < chunks.length; i++) {
    if (chunks[i] >= chunkCount) {
      throw new ShoalError(ErrorCode.OUT_OF_RANGE, `chunk ${chunks[i]} is outside 0..${chunkCount - 1}`)
    }
  }
}
