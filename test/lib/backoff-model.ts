import type { Backoff as BackoffClass, BackoffInit } from '../../peer/src/tracker/backoff.js'

// The peer package exports no backoff; it is loaded from beside the package's entry, as the reconnect child loads its tracker client.
const { Backoff } = (await import(new URL('./tracker/backoff.js', import.meta.resolve('@shoal/peer')).href)) as { Backoff: typeof BackoffClass }

/** Attempts one client makes at most in the model: far more than a 30 s cap needs to cover any outage a test makes. */
const MAX_ATTEMPTS = 1000

/**
 * When each client would reconnect, in ms after the tracker is back at `upAt`, had every
 * failed attempt failed at once and every wait been exactly what the peer's backoff drew:
 * the spread the backoff alone makes for this outage, without the scheduling of processes.
 * `downAt` holds when each client lost the tracker (ms since the epoch, like `upAt`).
 */
export function modelledReturns(downAt: readonly number[], upAt: number, backoff: BackoffInit): number[] {
  return downAt.map((lostAt) => {
    const client = new Backoff(backoff)
    let at = lostAt
    for (let attempt = 0; attempt < MAX_ATTEMPTS && at < upAt; attempt++) at += client.next()
    return at - upAt
  })
}
