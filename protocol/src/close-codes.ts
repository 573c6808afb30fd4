/**
 * WebSocket close codes the tracker uses (4000–4999 is the application range). A peer
 * reconnects after any of them except AUTH_FAILED, which needs the user to fix the token
 * first; after PEER_ID_TAKEN it retries slowly, since the holder may be a squatter that leaves.
 */
export const CloseCode = {
  /** Standard "going away": the tracker is shutting down; reconnect with backoff. */
  GOING_AWAY: 1001,
  /** No register arrived within the register timeout. */
  REGISTER_TIMEOUT: 4000,
  /** The same peer id registered again on a newer connection with the same key. */
  REPLACED: 4001,
  /** Missing or wrong tracker token. */
  AUTH_FAILED: 4002,
  /** The invalid-message budget is spent. */
  TOO_MANY_INVALID: 4003,
  /** Silent for longer than the TTL. */
  EXPIRED: 4004,
  /** The peer did not read its replies; its send buffer stayed over the limit. */
  SLOW_CONSUMER: 4005,
  /** Another connection holds this peer id with a different key, or held it less than 2 × ttl ago. */
  PEER_ID_TAKEN: 4006,
  /** Message rate stayed over the limit. */
  RATE_LIMITED: 4007,
} as const

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]
