import { InvalidArgumentError, MAX_REGISTER_CONTENTS, MAX_TOKEN_BYTES, MAX_TRACKER_FRAME } from '@shoal/protocol'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'
import { pino } from 'pino'
import type { Logger } from 'pino'
import type { TrackerInit } from './index.js'
import { intOption } from './option-checks.js'

/** Abuse limits; each bounds what one connection can make the tracker spend. */
export interface TrackerLimits {
  /** Largest WebSocket message; larger ones close the connection (1009). Default MAX_TRACKER_FRAME (12 MiB). */
  maxFrame?: number
  /** Contents one peer may be in. Default 1,000. */
  maxContentsPerPeer?: number
  /** Sum of chunk counts over all swarms (bounds availability memory: 12 bytes a chunk once one is held). Default 2^25. */
  maxIndexedChunks?: number
  /**
   * Sum of chunk counts over the contents one peer is in. Default 2^24: 16 TiB at the default
   * chunk size (1,000 contents of 16 GiB, or 64 of the most chunks a content can have), and
   * half the shared budget, so one connection cannot take it all.
   */
  maxChunksPerPeer?: number
  /** Messages per second per connection, on average. Default 1,000. */
  messageRate?: number
  /** Messages one connection may send at once beyond the rate. Default 2,000. */
  messageBurst?: number
  /** Invalid frames a connection may send before it is closed (4003). Default 64. */
  invalidBudget?: number
  /** Unsent reply bytes after which a connection that stays over the limit is closed (4005). Default 8 MiB. */
  maxBufferedBytes?: number
  /** Distinct reporters after which a peer is not handed out for that content. Default 3. */
  banThreshold?: number
  /** Most members examined per group in one find; a find looks at 2 × max (at least 16) up to this. Default 256. */
  findScanLimit?: number
  /** Bytes of manifests the data directory keeps; a publish beyond it is refused (ERR_LIMIT_EXCEEDED). Default 4 GiB. */
  maxManifestBytes?: number
  /**
   * WebSocket connections open at once from one address (an IPv6 /64 counts as one); more are
   * refused with HTTP 429 before the upgrade. 0 = no limit. Default 256: room for a NAT'd
   * office, while one host cannot take the whole index budget by opening connections.
   */
  maxConnectionsPerIp?: number
}

/** A certificate chain and its private key, as PEM text (not file names). */
export interface TrackerTls {
  cert: string | Buffer
  key: string | Buffer
}

export interface TrackerConfig {
  host: string
  port: number
  dataDir: string
  token: string | undefined
  trustProxy: boolean
  tls: TrackerTls | undefined
  ttlMs: number
  peerIdGraceMs: number
  registerTimeoutMs: number
  sweepIntervalMs: number
  statsTickMs: number
  persistIntervalMs: number
  closeGraceMs: number
  replicationTarget: number
  mostShared: number
  limits: Required<TrackerLimits>
  logger: Logger
}

const DAY_MS = 24 * 3600 * 1000

/** Every default in one place; the CLI shows them in --help. */
export const DEFAULTS = {
  host: '127.0.0.1',
  port: 7070,
  dataDir: './shoal-tracker-data',
  ttlMs: 60_000,
  registerTimeoutMs: 10_000,
  sweepIntervalMs: 1000,
  statsTickMs: 1000,
  persistIntervalMs: 10_000,
  closeGraceMs: 1000,
  replicationTarget: 3,
  mostShared: 10,
  limits: {
    maxFrame: MAX_TRACKER_FRAME,
    maxContentsPerPeer: 1000,
    maxIndexedChunks: 2 ** 25,
    maxChunksPerPeer: 2 ** 24,
    messageRate: 1000,
    messageBurst: 2000,
    invalidBudget: 64,
    maxBufferedBytes: 8 * 1024 * 1024,
    banThreshold: 3,
    findScanLimit: 256,
    maxManifestBytes: 4 * 1024 ** 3,
    maxConnectionsPerIp: 256,
  },
} as const

/** Fills in defaults and checks every option, naming the first bad one. */
export function resolveConfig(init: TrackerInit): TrackerConfig {
  const limits = init.limits ?? {}
  const preset = DEFAULTS.limits
  if (init.token !== undefined && (typeof init.token !== 'string' || init.token.length === 0 || Buffer.byteLength(init.token) > MAX_TOKEN_BYTES)) {
    throw new InvalidArgumentError('token', `must be a non-empty string of at most ${MAX_TOKEN_BYTES} bytes`)
  }
  if (init.host !== undefined && (typeof init.host !== 'string' || init.host === '')) throw new InvalidArgumentError('host', 'must be a host name or address')
  return {
    host: init.host ?? DEFAULTS.host,
    port: intOption('port', init.port, DEFAULTS.port, 0, 65535),
    dataDir: init.dataDir ?? DEFAULTS.dataDir,
    token: init.token,
    trustProxy: init.trustProxy ?? false,
    tls: checkTls(init.tls),
    ttlMs: intOption('ttlMs', init.ttlMs, DEFAULTS.ttlMs, 1, DAY_MS),
    peerIdGraceMs: intOption('peerIdGraceMs', init.peerIdGraceMs, 2 * (init.ttlMs ?? DEFAULTS.ttlMs), 0, 2 * DAY_MS),
    registerTimeoutMs: intOption('registerTimeoutMs', init.registerTimeoutMs, DEFAULTS.registerTimeoutMs, 1, DAY_MS),
    sweepIntervalMs: intOption('sweepIntervalMs', init.sweepIntervalMs, DEFAULTS.sweepIntervalMs, 1, DAY_MS),
    statsTickMs: intOption('statsTickMs', init.statsTickMs, DEFAULTS.statsTickMs, 1, DAY_MS),
    persistIntervalMs: intOption('persistIntervalMs', init.persistIntervalMs, DEFAULTS.persistIntervalMs, 1, DAY_MS),
    closeGraceMs: intOption('closeGraceMs', init.closeGraceMs, DEFAULTS.closeGraceMs, 0, DAY_MS),
    replicationTarget: intOption('replicationTarget', init.replicationTarget, DEFAULTS.replicationTarget, 1, 1000),
    mostShared: intOption('mostShared', init.mostShared, DEFAULTS.mostShared, 0, 1000),
    limits: {
      maxFrame: intOption('limits.maxFrame', limits.maxFrame, preset.maxFrame, 1024, MAX_TRACKER_FRAME),
      maxContentsPerPeer: intOption('limits.maxContentsPerPeer', limits.maxContentsPerPeer, preset.maxContentsPerPeer, 1, MAX_REGISTER_CONTENTS),
      maxIndexedChunks: intOption('limits.maxIndexedChunks', limits.maxIndexedChunks, preset.maxIndexedChunks, 1),
      maxChunksPerPeer: intOption('limits.maxChunksPerPeer', limits.maxChunksPerPeer, preset.maxChunksPerPeer, 1),
      messageRate: intOption('limits.messageRate', limits.messageRate, preset.messageRate, 1),
      messageBurst: intOption('limits.messageBurst', limits.messageBurst, preset.messageBurst, 1),
      invalidBudget: intOption('limits.invalidBudget', limits.invalidBudget, preset.invalidBudget, 1),
      maxBufferedBytes: intOption('limits.maxBufferedBytes', limits.maxBufferedBytes, preset.maxBufferedBytes, 1024),
      banThreshold: intOption('limits.banThreshold', limits.banThreshold, preset.banThreshold, 1, 1000),
      findScanLimit: intOption('limits.findScanLimit', limits.findScanLimit, preset.findScanLimit, 1),
      maxManifestBytes: intOption('limits.maxManifestBytes', limits.maxManifestBytes, preset.maxManifestBytes, 1),
      maxConnectionsPerIp: intOption('limits.maxConnectionsPerIp', limits.maxConnectionsPerIp, preset.maxConnectionsPerIp, 0),
    },
    logger: init.logger ?? pino({ enabled: false }),
  }
}

/** Refuses a certificate or key Node cannot use (unreadable PEM, a key that does not match). */
function checkTls(tls: TrackerTls | undefined): TrackerTls | undefined {
  if (tls === undefined) return undefined
  for (const part of ['cert', 'key'] as const) {
    const value: unknown = tls[part]
    if (!(typeof value === 'string' || Buffer.isBuffer(value)) || value.length === 0) {
      throw new InvalidArgumentError(`tls.${part}`, 'must be PEM text (a string or a Buffer)')
    }
  }
  try {
    createSecureContext({ cert: tls.cert, key: tls.key })
    // OpenSSL compares a key with the certificate only when both are of one type: an EC
    // certificate with an RSA key loads, and then every handshake fails.
    if (!new X509Certificate(tls.cert).checkPrivateKey(createPrivateKey(tls.key))) throw new Error('key values mismatch (the key is not the certificate\'s)')
  } catch (err) {
    throw new InvalidArgumentError('tls', `the certificate and key are not usable together: ${(err as Error).message}`)
  }
  return { cert: tls.cert, key: tls.key }
}
