import { ErrorCode, ShoalError } from '@shoal/protocol'
import type { ContentKey, ContentStats, IndexHolding, IndexPeer, IndexStats, PeerKey, SharedContent } from '../../src/chunk-index.js'

interface RefPeer {
  peer: IndexPeer
  load: number
  contents: Map<ContentKey, boolean[]>
}

export interface RefLimits {
  knownChunkCount: (content: ContentKey) => number | undefined
  maxContentsPerPeer: number
  maxIndexedChunks: number
  maxChunksPerPeer: number
  replicationTarget: number
  banThreshold: number
}

/**
 * The obviously-correct model of a ChunkIndex: plain maps and boolean arrays, every
 * answer recomputed by walking everything. Slow on purpose.
 */
export class ReferenceIndex {
  readonly peers = new Map<PeerKey, RefPeer>()
  private readonly reports = new Map<ContentKey, Map<PeerKey, Set<PeerKey>>>()

  constructor(private readonly limits: RefLimits) {}

  register(peer: IndexPeer, holdings: readonly IndexHolding[]): void {
    const seen = new Set<ContentKey>()
    for (const h of holdings) {
      if (seen.has(h.content)) throw bad()
      seen.add(h.content)
      const others = this.holders(h.content).filter((k) => k !== peer.key)
      const swarmCount = others.length > 0 ? this.chunkCountOf(h.content) : undefined
      for (const expected of [swarmCount, this.limits.knownChunkCount(h.content)]) {
        if (expected !== undefined && expected !== h.chunkCount) throw bad()
      }
      if (h.bitfield.length !== (h.chunkCount + 7) >>> 3) throw bad()
      if (toBools(h.chunkCount, h.bitfield).length !== h.chunkCount) throw bad()
    }
    if (holdings.length > this.limits.maxContentsPerPeer) throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, 'contents')
    if (holdings.reduce((sum, h) => sum + h.chunkCount, 0) > this.limits.maxChunksPerPeer) throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, 'chunks of one peer')
    const after = new Map(this.peers)
    after.set(peer.key, { peer, load: this.peers.get(peer.key)?.load ?? 0, contents: new Map(holdings.map((h) => [h.content, toBools(h.chunkCount, h.bitfield)])) })
    if (indexedChunks(after) > this.limits.maxIndexedChunks) throw new ShoalError(ErrorCode.LIMIT_EXCEEDED, 'chunks')
    this.drop(peer.key)
    this.peers.set(peer.key, after.get(peer.key) as RefPeer)
  }

  have(key: PeerKey, content: ContentKey, chunks: readonly number[]): void {
    const bits = this.bitsOf(key, content, chunks)
    for (const c of chunks) bits[c] = true
  }

  lost(key: PeerKey, content: ContentKey, chunks: readonly number[]): void {
    const bits = this.bitsOf(key, content, chunks)
    for (const c of chunks) bits[c] = false
  }

  unregister(key: PeerKey, content: ContentKey): void {
    this.peer(key).contents.delete(content)
    this.forgetEmpty(content)
  }

  drop(key: PeerKey): boolean {
    const p = this.peers.get(key)
    if (p === undefined) return false
    this.peers.delete(key)
    for (const content of p.contents.keys()) this.forgetEmpty(content)
    return true
  }

  removeContent(content: ContentKey): void {
    for (const p of this.peers.values()) p.contents.delete(content)
    this.forgetEmpty(content)
  }

  setLoad(key: PeerKey, load: number): void {
    this.peer(key).load = load
  }

  report(reporter: PeerKey, content: ContentKey, target: PeerKey): void {
    this.peer(reporter)
    if (reporter === target || !this.peers.get(reporter)?.contents.has(content) || !this.peers.get(target)?.contents.has(content)) return
    let byTarget = this.reports.get(content)
    if (byTarget === undefined) this.reports.set(content, (byTarget = new Map()))
    let set = byTarget.get(target)
    if (set === undefined) byTarget.set(target, (set = new Set()))
    set.add(reporter)
  }

  isBanned(content: ContentKey, key: PeerKey): boolean {
    return (this.reports.get(content)?.get(key)?.size ?? 0) >= this.limits.banThreshold
  }

  holders(content: ContentKey): PeerKey[] {
    return [...this.peers.values()].filter((p) => p.contents.has(content)).map((p) => p.peer.key)
  }

  chunkCountOf(content: ContentKey): number | undefined {
    for (const p of this.peers.values()) {
      const bits = p.contents.get(content)
      if (bits !== undefined) return bits.length
    }
    return undefined
  }

  availability(content: ContentKey): number[] | undefined {
    const count = this.chunkCountOf(content)
    if (count === undefined) return undefined
    const out = new Array<number>(count).fill(0)
    for (const p of this.peers.values()) p.contents.get(content)?.forEach((b, i) => { if (b) out[i]++ })
    return out
  }

  stats(): IndexStats {
    const contents = new Set<ContentKey>()
    let chunkReplicas = 0
    for (const p of this.peers.values()) {
      for (const [content, bits] of p.contents) {
        contents.add(content)
        chunkReplicas += bits.filter(Boolean).length
      }
    }
    return { peersOnline: this.peers.size, contents: contents.size, chunkReplicas }
  }

  contentStats(content: ContentKey): ContentStats | undefined {
    const avail = this.availability(content)
    if (avail === undefined) return undefined
    const members = this.holders(content).map((k) => (this.peers.get(k) as RefPeer).contents.get(content) as boolean[])
    const sum = avail.reduce((a, b) => a + b, 0)
    return {
      peers: members.length,
      seeders: members.filter((bits) => bits.every(Boolean)).length,
      chunkCount: avail.length,
      availability: { min: avail.length === 0 ? 0 : Math.min(...avail), mean: avail.length === 0 ? 0 : sum / avail.length },
      underReplicatedChunks: avail.filter((a) => a < this.limits.replicationTarget).length,
    }
  }

  /** Every content with peers, most peers first (ties in any order). */
  mostShared(): SharedContent[] {
    const contents = new Set([...this.peers.values()].flatMap((p) => [...p.contents.keys()]))
    return [...contents].map((content) => ({ content, ...(this.contentStats(content) as ContentStats) })).sort((a, b) => b.peers - a.peers)
  }

  /** A registered content's bits, after checking `chunks` would fit. */
  private bitsOf(key: PeerKey, content: ContentKey, chunks: readonly number[]): boolean[] {
    const bits = this.peer(key).contents.get(content)
    if (bits === undefined) throw new ShoalError(ErrorCode.NOT_FOUND, 'not registered')
    if (chunks.some((c) => c >= bits.length)) throw new ShoalError(ErrorCode.OUT_OF_RANGE, 'range')
    return bits
  }

  private peer(key: PeerKey): RefPeer {
    const p = this.peers.get(key)
    if (p === undefined) throw new ShoalError(ErrorCode.NOT_REGISTERED, 'not registered')
    return p
  }

  private forgetEmpty(content: ContentKey): void {
    if (this.holders(content).length === 0) this.reports.delete(content)
  }
}

export function toBools(chunkCount: number, bytes: Uint8Array): boolean[] {
  const out: boolean[] = []
  for (let i = 0; i < chunkCount; i++) out.push((bytes[i >>> 3] & (0x80 >>> (i & 7))) !== 0)
  const spare = bytes.length * 8 - chunkCount
  if (spare > 0 && (bytes[bytes.length - 1] & ((1 << spare) - 1)) !== 0) throw bad()
  return out
}

function bad(): ShoalError {
  return new ShoalError(ErrorCode.BAD_MESSAGE, 'bad')
}

/** Sum of chunk counts over contents with at least one peer. */
function indexedChunks(peers: Map<PeerKey, RefPeer>): number {
  const counts = new Map<ContentKey, number>()
  for (const p of peers.values()) for (const [c, bits] of p.contents) counts.set(c, bits.length)
  return [...counts.values()].reduce((a, b) => a + b, 0)
}
