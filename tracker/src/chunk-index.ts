import type { Source } from '@shoal/protocol'

/**
 * Peer and content ids travel through the index as lowercase hex strings: cheap map keys,
 * and the same form a shared backend would store.
 */
export type PeerKey = string
export type ContentKey = string

/** Who a peer is and where other peers reach it. */
export interface IndexPeer {
  key: PeerKey
  peerId: Uint8Array
  host: string
  port: number
}

/** One content a peer holds, keyed; `bitfield` is the wire form over chunkCount bits. */
export interface IndexHolding {
  content: ContentKey
  chunkCount: number
  bitfield: Uint8Array
}

export interface FindResult {
  /**
   * Up to `max` peers holding some wanted chunk, best first. When the find asked for chunk
   * lists, each one's `chunks` is held ∧ wanted, a view valid until the next find; else empty.
   */
  peers: Source[]
  /** Up to 64 wanted chunk indices with the fewest holders (at least one), rarest first. */
  rarest: number[]
}

export interface ContentStats {
  peers: number
  /** Peers holding every chunk. */
  seeders: number
  chunkCount: number
  availability: { min: number; mean: number }
  /** Chunks with fewer holders than the index's replication target. */
  underReplicatedChunks: number
}

/** A content's statistics, named by its key. */
export interface SharedContent extends ContentStats {
  content: ContentKey
}

export interface IndexStats {
  peersOnline: number
  /** Contents with at least one peer. */
  contents: number
  /** Sum over peers and contents of chunks held. */
  chunkReplicas: number
}

/** Options every ChunkIndex implementation takes, with the same meaning. */
export interface ChunkIndexOptions {
  /** Chunk counts known from verified manifests; registers and joins must agree with them. */
  knownChunkCount?: (content: ContentKey) => number | undefined
  /** Contents one peer may be in. Default 1,000. */
  maxContentsPerPeer?: number
  /** Sum of chunk counts over all swarms, bounding availability memory. Default 2^25. */
  maxIndexedChunks?: number
  /** Sum of chunk counts over the contents one peer is in, so no peer takes the shared budget. Default 2^24. */
  maxChunksPerPeer?: number
  /** Chunks with fewer holders are under-replicated. Default 3. */
  replicationTarget?: number
  /** Distinct reporters after which a peer is no longer handed out for that content. Default 3. */
  banThreshold?: number
  /** Most members examined per group (seeders, partial holders) in one find; finds look at 2 × max (at least 16) up to this. Default 256. */
  findScanLimit?: number
  /** Sources returned when a find asks for max 0. Default 20. */
  defaultFindMax?: number
  /** Source of randomness for tie-breaks and sampling offsets (tests pass a seeded one). */
  random?: () => number
}

/**
 * The live chunk index: content → peers → bitfield, with per-chunk availability. Every
 * mutation is atomic: it either throws a ShoalError and changes nothing, or applies fully.
 * Costs are bounded by the chunks changed or asked, never by the number of peers.
 */
export interface ChunkIndex {
  /** Replaces everything `peer` holds with `holdings` (a full resync when it is known already). */
  register(peer: IndexPeer, holdings: readonly IndexHolding[]): void
  /** Adds chunks of a content the peer registered (else ERR_NOT_FOUND). */
  have(peer: PeerKey, content: ContentKey, chunks: readonly number[]): void
  /** Removes chunks of a content the peer registered (else ERR_NOT_FOUND). */
  lost(peer: PeerKey, content: ContentKey, chunks: readonly number[]): void
  unregister(peer: PeerKey, content: ContentKey): void
  /** Removes the peer and all its entries; false when it was not there. */
  drop(peer: PeerKey): boolean
  setLoad(peer: PeerKey, load: number): void
  /** `reporter` received bad data from `target` for `content`. */
  report(reporter: PeerKey, content: ContentKey, target: PeerKey): void
  /** `wanted` is the wire bitfield over the content's chunks; `max` 0 means the default. */
  find(asker: PeerKey | undefined, content: ContentKey, wanted: Uint8Array, max: number, chunkLists: boolean): FindResult
  /** Removes every peer's entry for a content (its swarm disagrees with the verified manifest). */
  removeContent(content: ContentKey): void
  /** The chunk count of a content with peers online. */
  chunkCountOf(content: ContentKey): number | undefined
  stats(): IndexStats
  contentStats(content: ContentKey): ContentStats | undefined
  /** The `limit` contents with the most peers, most first (ties in no set order); O(limit). */
  mostShared(limit: number): SharedContent[]
  /** Inspection, O(chunks): per-chunk holder counts of a content. */
  availability(content: ContentKey): number[] | undefined
  /** Inspection: what a peer holds. */
  holdings(peer: PeerKey): IndexHolding[] | undefined
  /** Inspection: the peers in a content's swarm. */
  members(content: ContentKey): PeerKey[]
}
