import type { ChunkIndex, IndexPeer, PeerKey } from './chunk-index.js'
import type { Session } from './session.js'

/** About 10 MiB of reservations at most. */
const MAX_RESERVED = 65_536

/** The key a disconnected peer id stays reserved for, and until when. */
interface Reservation {
  secret: Uint8Array
  until: number
}

/**
 * All open sessions, and which one holds each peer id. Only the holder's entry is in the
 * index, so a connection can only ever change its own peer's entries. When a holder goes
 * away, its id stays reserved for its key for `graceMs`, so nobody who learned the id (every
 * sources reply carries it) can take it while the owner reconnects. Reservations expire in
 * the order they were made; at most `maxReserved` are kept (the oldest make room).
 */
export class PeerSessions {
  readonly all = new Set<Session>()
  private readonly byPeer = new Map<PeerKey, Session>()
  private readonly reserved = new Map<PeerKey, Reservation>()

  constructor(private readonly index: ChunkIndex, private readonly graceMs: number, private readonly maxReserved = MAX_RESERVED) {}

  holderOf(peer: PeerKey): Session | undefined {
    return this.byPeer.get(peer)
  }

  /** The key a recently disconnected holder of `peer` had, while its reservation lasts. */
  reservedKeyOf(peer: PeerKey, now: number): Uint8Array | undefined {
    const reservation = this.reserved.get(peer)
    return reservation !== undefined && reservation.until > now ? reservation.secret : undefined
  }

  /** Makes `session` the holder of `peer`; the index entry was already replaced in place. */
  bind(session: Session, peer: IndexPeer, secret: Uint8Array): void {
    const previous = this.byPeer.get(peer.key)
    if (previous !== undefined && previous !== session) previous.peer = undefined
    this.byPeer.set(peer.key, session)
    this.reserved.delete(peer.key)
    session.peer = peer
    session.secret = Uint8Array.from(secret)
  }

  /** Removes the session's peer from the index at once, if it still holds it, and reserves its id. */
  release(session: Session): void {
    const peer = session.peer
    if (peer === undefined) return
    session.peer = undefined
    if (this.byPeer.get(peer.key) !== session) return
    this.byPeer.delete(peer.key)
    this.index.drop(peer.key)
    this.reserve(peer.key, session.secret as Uint8Array, performance.now())
  }

  remove(session: Session): void {
    this.release(session)
    this.all.delete(session)
  }

  /** Forgets the reservations that ran out; O(1) per reservation forgotten. */
  expire(now: number): void {
    for (const [peer, reservation] of this.reserved) {
      if (reservation.until > now) return
      this.reserved.delete(peer)
    }
  }

  private reserve(peer: PeerKey, secret: Uint8Array, now: number): void {
    if (this.graceMs === 0) return
    // Re-inserted at the end, so the map stays in expiry order.
    this.reserved.delete(peer)
    if (this.reserved.size >= this.maxReserved) this.reserved.delete(this.reserved.keys().next().value as PeerKey)
    this.reserved.set(peer, { secret, until: now + this.graceMs })
  }
}
