/** Cumulative totals since the data directory was created; they persist across restarts. */
export interface Totals {
  /** Frames received, valid or not. */
  messages: number
  register: number
  have: number
  lost: number
  heartbeat: number
  unregister: number
  publish: number
  'get-manifest': number
  find: number
  report: number
  /** Error replies sent. */
  errors: number
  invalid: number
  rateLimited: number
  connections: number
  expired: number
  registerTimeouts: number
  replaced: number
  slowConsumers: number
  /** WebSocket upgrades refused: too many connections from one address. */
  connectionsRefused: number
  authFailures: number
  manifestsPublished: number
}

export function emptyTotals(): Totals {
  return {
    messages: 0, register: 0, have: 0, lost: 0, heartbeat: 0, unregister: 0, publish: 0, 'get-manifest': 0, find: 0,
    report: 0, errors: 0, invalid: 0, rateLimited: 0, connections: 0, expired: 0, registerTimeouts: 0, replaced: 0,
    slowConsumers: 0, connectionsRefused: 0, authFailures: 0, manifestsPublished: 0,
  }
}

/** Totals from a stored snapshot; unknown or malformed entries are ignored. */
export function restoreTotals(stored: unknown): Totals {
  const totals = emptyTotals()
  if (typeof stored !== 'object' || stored === null) return totals
  for (const key of Object.keys(totals) as (keyof Totals)[]) {
    const value = (stored as Record<string, unknown>)[key]
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) totals[key] = value
  }
  return totals
}
