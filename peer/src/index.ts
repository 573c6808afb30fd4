import type { Logger } from 'pino'
import { Peer } from './peer.js'

/** How a peer daemon runs. Every field is optional; times are in milliseconds. */
export interface PeerInit {
  /** State folder (LevelDB, identity, daemon.json). Default `SHOAL_DATA_DIR` or `~/.shoal`. */
  dataDir?: string
  /** Trackers for shares that name none (ws:// or wss:// base URLs). */
  trackers?: string[]
  /** Token the trackers require, if any. */
  trackerToken?: string
  /**
   * PEM CA certificate(s) trusted for wss:// trackers besides the usual public ones: a
   * tracker whose certificate a private CA signed.
   */
  ca?: string
  /** Peer-wire listen address. Default 0.0.0.0. */
  host?: string
  /** Peer-wire port. Default 7071; 0 picks a free one. */
  port?: number
  /** Bytes per second, all uploads together; 0 = unlimited (default). */
  uploadLimit?: number
  /** Bytes per second, all downloads together; 0 = unlimited (default). */
  downloadLimit?: number
  /** Connections uploaded to at once; others get `busy`. Default 8. */
  maxUploads?: number
  /** Peer-wire connections open at once; beyond it a new one replaces the longest idle. Default 256. */
  maxConnections?: number
  /** A peer-wire connection asked nothing of this long is closed. Default 60 s. */
  idleTimeoutMs?: number
  /** A downloader that takes no bytes this long gives its upload slot to others. Default 2 s. */
  slotYieldMs?: number
  /** A downloader that takes no bytes this long is disconnected. Default 15 s. */
  stallTimeoutMs?: number
  /** Requests in flight per source. Default 8. */
  perPeerInflight?: number
  /** Requests in flight across all downloads. Default 64. */
  globalInflight?: number
  /**
   * Bytes of pieces a download has asked for or has waiting for the disk, beyond which it
   * pauses its requests (also the receive buffers it keeps). Default 32 MiB.
   */
  storeBacklogBytes?: number
  /** Sources one download connects to. Default 30. */
  maxPeersPerDownload?: number
  /** Tracker reconnect backoff with full jitter. Default 500 ms doubling to 30 s. */
  reconnect?: { initialMs: number; maxMs: number }
  /** A source silent this long loses its requests to other sources. Default 15 s. */
  requestTimeoutMs?: number
  /** Connect plus peer-wire handshake. Default 5 s. */
  connectTimeoutMs?: number
  /** Tracker request timeout. Default 10 s. */
  trackerTimeoutMs?: number
  /** Tracker heartbeat interval. Default ttl / 3 as the tracker says. */
  heartbeatMs?: number
  /** How often a download asks the trackers for more sources. Default 5 s. */
  findIntervalMs?: number
  /** `have`s to the tracker are batched over this long. Default 50. */
  haveDelayMs?: number
  /** Bad chunks from one source before it is banned for that content. Default 2. */
  banAfter?: number
  /** Retry delay a `busy` reply asks for. Default 1 s. */
  busyRetryMs?: number
  /**
   * While uploads are saturated, a chunk sent more often than the content's least-sent
   * chunk is refused (to be fetched from a peer that has it) for up to this long. Default 4 s.
   */
  spreadPatienceMs?: number
  /** Structured logger; silent by default. */
  log?: Logger
}

export type { Peer }
export type { ContentStatus, PeerStatus, ShareOptions, ShareResult, GetOptions } from './peer.js'

/** Opens the data folder, listens for peers and connects to the trackers. */
export async function createPeer(init: PeerInit = {}): Promise<Peer> {
  const peer = new Peer(init)
  await peer.start()
  return peer
}

export { startDaemon } from './daemon.js'
export type { Daemon, DaemonInit } from './daemon.js'
export { ControlClient } from './control/control-client.js'
export { defaultDataDir } from './defaults.js'
export { FramedSocket } from './wire/framed-socket.js'
export { pieceFrameHead } from './wire/piece-frame.js'
