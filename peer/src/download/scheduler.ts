import { Bitfield, InvalidArgumentError } from '@shoal/protocol'

/** One chunk asked of one peer. A peer has at most one request per chunk. */
export interface ChunkRequest {
  peer: string
  chunk: number
}

export interface SchedulerInit {
  chunkCount: number
  /** Chunks already verified. */
  have?: Bitfield
  /** Most requests in flight to one peer. */
  perPeerInflight: number
  /** Requests in flight to a new peer, until `setDepth` says otherwise. Default perPeerInflight. */
  initialInflight?: number
  /** A request fails over to another peer once its peer has sent nothing for this long. */
  requestTimeoutMs: number
  /** Bad chunks from one peer before it is banned. */
  banAfter: number
  /** Extra peers asked for the same chunk once every missing chunk is requested (endgame). */
  endgameDuplicates: number
  /** Least time between re-sorts of the rarest-first order (0 = whenever availability changed). */
  resortMs: number
  random?: () => number
}

export type FailReason = 'bad-data' | 'not-held' | 'lost'

interface PeerState {
  has: Bitfield
  /** Chunk → when it was requested. */
  inflight: Map<number, number>
  lastHeard: number
  busyUntil: number
  strikes: number
  /** In-flight cap the caller set from the peer's delivery rate (perPeerInflight at most). */
  depth: number
  /** Timed out and not delivered since: one request at a time. */
  snubbed: boolean
  /** Chunk → until when not to ask this peer for it (it said to get it elsewhere). */
  deferred: Map<number, number>
}

/**
 * Decides which chunk to ask of which peer. Pure: it sees no sockets or clocks, only the
 * events and times the caller reports. Each peer with a free slot gets the rarest missing
 * chunk it holds (availability counted over connected peers, the tracker's rarest list
 * breaking ties, then a per-download random order), so a seeder is asked for chunks
 * nobody else has while chunks others hold are fetched from them.
 */
export class Scheduler {
  private readonly missing: Bitfield
  private readonly avail: Uint32Array
  private readonly tiebreak: Float64Array
  private readonly hint = new Map<number, number>()
  /** Chunk → peers it is requested from. */
  private readonly requested = new Map<number, Set<string>>()
  /** Chunk → the peer whose copy is being verified. */
  private readonly verifying = new Map<number, string>()
  private readonly peers = new Map<string, PeerState>()
  private readonly banned = new Set<string>()
  private readonly random: () => number
  private order: number[] = []
  private dirty = true
  private sortedAt = -Infinity

  constructor(private readonly init: SchedulerInit) {
    for (const key of ['perPeerInflight', 'banAfter'] as const) {
      if (!Number.isInteger(init[key]) || init[key] < 1) throw new InvalidArgumentError(key, 'must be a positive integer')
    }
    this.random = init.random ?? Math.random
    this.missing = Bitfield.full(init.chunkCount)
    for (const c of init.have ?? []) this.missing.clear(c)
    this.avail = new Uint32Array(init.chunkCount)
    this.tiebreak = Float64Array.from({ length: init.chunkCount }, () => this.random())
  }

  get complete(): boolean {
    return this.missing.empty
  }

  get missingCount(): number {
    return this.missing.count
  }

  get inflightCount(): number {
    let n = 0
    for (const p of this.peers.values()) n += p.inflight.size
    return n
  }

  isBanned(peer: string): boolean {
    return this.banned.has(peer)
  }

  hasPeer(peer: string): boolean {
    return this.peers.has(peer)
  }

  /** Whether the chunk still needs fetching (not held, not being verified). */
  wants(chunk: number): boolean {
    return this.missing.has(chunk) && !this.verifying.has(chunk)
  }

  addPeer(peer: string, has: Bitfield, now: number): boolean {
    if (this.banned.has(peer) || this.peers.has(peer) || has.size !== this.init.chunkCount) return false
    this.peers.set(peer, { has: has.clone(), inflight: new Map(), lastHeard: now, busyUntil: 0, strikes: 0, depth: this.init.initialInflight ?? this.init.perPeerInflight, snubbed: false, deferred: new Map() })
    for (const c of has) this.avail[c]++
    this.dirty = true
    return true
  }

  /** Forgets a peer; its requests go back to the pool. Returns the chunks it had in flight. */
  removePeer(peer: string): number[] {
    const p = this.peers.get(peer)
    if (p === undefined) return []
    const chunks = [...p.inflight.keys()]
    for (const c of chunks) this.unrequest(peer, p, c)
    for (const c of p.has) this.avail[c]--
    this.peers.delete(peer)
    this.dirty = true
    return chunks
  }

  peerHas(peer: string, chunks: number[]): void {
    const p = this.peers.get(peer)
    if (p === undefined) return
    for (const c of chunks) if (c < this.init.chunkCount && p.has.set(c)) this.avail[c]++
    this.dirty = true
  }

  /**
   * The tracker's rarest wanted chunks, rarest first. The list carries no counts, and its
   * order among equally rare chunks is the tracker's (by index), so only its structure is
   * trusted: each increasing run of indices is one availability class, rarer than the
   * next. Chunks in the same class stay in this download's random order, so downloaders
   * given the same list still pick different chunks. The last class of a full list may
   * continue among unlisted chunks, so it counts as unlisted.
   */
  hintRarest(chunks: number[], listLimit = 64): void {
    this.hint.clear()
    let run = 0
    const classOf = new Map<number, number>()
    chunks.forEach((c, i) => {
      if (i > 0 && c < chunks[i - 1]) run++
      classOf.set(c, run)
    })
    for (const [c, cls] of classOf) if (chunks.length < listLimit || cls < run) this.hint.set(c, cls)
    this.dirty = true
  }

  /** Bytes arrived from the peer: it is alive, whatever it is sending. */
  heard(peer: string, now: number): void {
    const p = this.peers.get(peer)
    if (p !== undefined) p.lastHeard = now
  }

  /**
   * New requests to send, at most `budget`. Marks them in flight. Peers with the fewest
   * requests go first, one chunk each per round, so load spreads over sources.
   */
  plan(now: number, budget = Infinity): ChunkRequest[] {
    const out: ChunkRequest[] = []
    if (budget <= 0 || this.missing.empty) return out
    this.resort(now)
    const free = this.freePeers(now)
    const cursors = new Map<string, number>()
    let starved = false
    for (let progress = true; progress && out.length < budget; ) {
      progress = false
      for (const [peer, p] of free) {
        if (out.length >= budget) break
        if (p.inflight.size >= limitOf(p) || cursors.get(peer) === -1) continue
        const at = this.nextUnrequested(p, cursors.get(peer) ?? 0, now)
        cursors.set(peer, at === -1 ? -1 : at + 1)
        if (at === -1) {
          starved = true
          continue
        }
        out.push(this.request(peer, p, this.order[at], now))
        progress = true
      }
    }
    if (starved && out.length < budget && this.everyMissingRequested()) this.planEndgame(free, now, budget, out)
    return out
  }

  /** Takes back a planned request that was not sent. */
  withdraw(r: ChunkRequest): void {
    const p = this.peers.get(r.peer)
    if (p?.inflight.has(r.chunk)) this.unrequest(r.peer, p, r.chunk)
  }

  /**
   * The peer's copy arrived. Frees its slot; returns whether the data should be verified
   * (false when another copy is already being verified or the chunk is held).
   */
  received(peer: string, chunk: number, now: number): boolean {
    const p = this.peers.get(peer)
    if (p !== undefined) {
      p.lastHeard = now
      p.snubbed = false
      if (p.inflight.has(chunk)) this.unrequest(peer, p, chunk)
    }
    if (!this.wants(chunk)) return false
    this.verifying.set(chunk, peer)
    return true
  }

  /** The chunk is verified and stored. Returns the duplicate requests to cancel. */
  completed(chunk: number): ChunkRequest[] {
    this.verifying.delete(chunk)
    if (!this.missing.has(chunk)) return []
    this.missing.clear(chunk)
    const cancel: ChunkRequest[] = []
    for (const peer of [...(this.requested.get(chunk) ?? [])]) {
      this.unrequest(peer, this.peers.get(peer)!, chunk)
      cancel.push({ peer, chunk })
    }
    return cancel
  }

  /**
   * A request failed. `bad-data` counts against the peer (banned at `banAfter`);
   * `not-held` means the peer does not have it after all. Returns whether it got banned.
   */
  failed(peer: string, chunk: number, reason: FailReason): boolean {
    if (this.verifying.get(chunk) === peer) this.verifying.delete(chunk)
    const p = this.peers.get(peer)
    if (p === undefined) return this.banned.has(peer)
    if (p.inflight.has(chunk)) this.unrequest(peer, p, chunk)
    if (reason !== 'lost' && p.has.clear(chunk)) {
      this.avail[chunk]--
      this.dirty = true
    }
    if (reason === 'bad-data' && ++p.strikes >= this.init.banAfter) {
      this.removePeer(peer)
      this.banned.add(peer)
      return true
    }
    return false
  }

  /**
   * How many requests to keep in flight to the peer (1..perPeerInflight): about a fixed
   * time's worth of what it delivers, so a slow or shared uploader is not handed a long
   * queue that other sources could have served.
   */
  setDepth(peer: string, depth: number): void {
    const p = this.peers.get(peer)
    if (p !== undefined) p.depth = Math.max(1, Math.min(this.init.perPeerInflight, Math.round(depth)))
  }

  /** The peer wants this chunk fetched elsewhere: not asked of it again until `until`. */
  defer(peer: string, chunk: number, until: number): void {
    const p = this.peers.get(peer)
    if (p === undefined) return
    if (p.inflight.has(chunk)) this.unrequest(peer, p, chunk)
    p.deferred.set(chunk, until)
  }

  /** The peer is saturated: nothing more is asked of it until `retryMs` from now. */
  busy(peer: string, chunk: number, now: number, retryMs: number): void {
    const p = this.peers.get(peer)
    if (p === undefined) return
    if (p.inflight.has(chunk)) this.unrequest(peer, p, chunk)
    p.busyUntil = Math.max(p.busyUntil, now + retryMs)
  }

  /**
   * Requests whose peer has been silent for the timeout go back to the pool, and that peer
   * gets one request at a time until it delivers. Returns them, for the caller to cancel.
   */
  expire(now: number): ChunkRequest[] {
    const out: ChunkRequest[] = []
    for (const [peer, p] of this.peers) {
      for (const [chunk, sentAt] of p.inflight) {
        if (now - Math.max(sentAt, p.lastHeard) < this.init.requestTimeoutMs) continue
        this.unrequest(peer, p, chunk)
        p.snubbed = true
        out.push({ peer, chunk })
      }
    }
    return out
  }

  private request(peer: string, p: PeerState, chunk: number, now: number): ChunkRequest {
    p.inflight.set(chunk, now)
    let set = this.requested.get(chunk)
    if (set === undefined) this.requested.set(chunk, (set = new Set()))
    set.add(peer)
    return { peer, chunk }
  }

  private unrequest(peer: string, p: PeerState, chunk: number): void {
    p.inflight.delete(chunk)
    const set = this.requested.get(chunk)
    set?.delete(peer)
    if (set?.size === 0) this.requested.delete(chunk)
  }

  private freePeers(now: number): [string, PeerState][] {
    const free = [...this.peers].filter(([, p]) => p.busyUntil <= now && p.inflight.size < limitOf(p))
    const shuffle = new Map(free.map(([peer]) => [peer, this.random()]))
    return free.sort(([a, pa], [b, pb]) => pa.inflight.size - pb.inflight.size || shuffle.get(a)! - shuffle.get(b)!)
  }

  /** Index in `order` of the first chunk at or after `from` that the peer holds and nobody is asked for. */
  private nextUnrequested(p: PeerState, from: number, now: number): number {
    for (let i = from; i < this.order.length; i++) {
      const c = this.order[i]
      if (p.has.has(c) && this.wants(c) && !this.requested.has(c) && this.askable(p, c, now)) return i
    }
    return -1
  }

  /** False while the peer has asked us to fetch this chunk elsewhere. */
  private askable(p: PeerState, chunk: number, now: number): boolean {
    const until = p.deferred.get(chunk)
    if (until === undefined) return true
    if (until > now) return false
    p.deferred.delete(chunk)
    return true
  }

  /**
   * Endgame starts only at the real end: while some missing chunk is not requested (even
   * one no connected peer has yet, as mid-way through a swarm), a duplicate would spend
   * a source's upload on a copy already on its way, which in a swarm is mostly the seeder's.
   */
  private everyMissingRequested(): boolean {
    for (const c of this.order) if (this.wants(c) && !this.requested.has(c)) return false
    return true
  }

  /** Every missing chunk is requested: ask idle peers for in-flight chunks too, least-requested first. */
  private planEndgame(free: [string, PeerState][], now: number, budget: number, out: ChunkRequest[]): void {
    const maxPeers = 1 + this.init.endgameDuplicates
    const candidates = [...this.requested.keys()].filter((c) => this.wants(c))
    candidates.sort((a, b) => this.requested.get(a)!.size - this.requested.get(b)!.size)
    for (const [peer, p] of free) {
      for (const c of candidates) {
        if (out.length >= budget || p.inflight.size >= limitOf(p)) break
        const by = this.requested.get(c)
        if (by === undefined || by.size >= maxPeers || by.has(peer) || !p.has.has(c) || !this.askable(p, c, now)) continue
        out.push(this.request(peer, p, c, now))
      }
    }
  }

  /** Missing chunks by (availability, tracker rank, random); chunks nobody has go last. */
  private resort(now: number): void {
    if (!this.dirty || now - this.sortedAt < this.init.resortMs) return
    this.dirty = false
    this.sortedAt = now
    const key = (c: number): number => (this.avail[c] === 0 ? Number.MAX_SAFE_INTEGER : this.avail[c])
    const rank = (c: number): number => this.hint.get(c) ?? Infinity
    this.order = this.missing.toArray()
    this.order.sort((a, b) => key(a) - key(b) || rank(a) - rank(b) || this.tiebreak[a] - this.tiebreak[b])
  }
}

function limitOf(p: PeerState): number {
  return p.snubbed ? 1 : p.depth
}
