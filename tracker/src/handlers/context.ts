import type { TrackerReply, TrackerRequest } from '@shoal/protocol'
import type { ChunkIndex } from '../chunk-index.js'
import type { TrackerConfig } from '../config.js'
import type { Totals } from '../counters.js'
import type { InFlight } from '../in-flight.js'
import type { ManifestChecker } from '../manifest-checker.js'
import type { PeerSessions } from '../peer-sessions.js'
import type { Session } from '../session.js'
import type { TrackerStore } from '../store.js'

/** What every message handler may use. */
export interface HandlerContext {
  index: ChunkIndex
  store: TrackerStore
  sessions: PeerSessions
  config: TrackerConfig
  totals: Totals
  checker: ManifestChecker
  /** Publishes being checked and stored, by content. */
  publishing: InFlight<string>
}

/** A reply, or one already encoded as a whole WebSocket frame (see ws-frame). */
export type Reply = TrackerReply | Uint8Array

/**
 * Handles one request from a session. Returns the reply (or nothing, for messages that
 * have none); throws a ShoalError to answer with an error.
 */
export type Handler<M extends TrackerRequest> = (
  ctx: HandlerContext, session: Session, msg: M,
) => Reply | undefined | Promise<Reply | undefined>

/** The registered peer's key; the dispatcher only calls handlers other than register for registered sessions. */
export function peerKeyOf(session: Session): string {
  return (session.peer as { key: string }).key
}
