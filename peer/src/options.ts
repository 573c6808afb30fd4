import { X509Certificate } from 'node:crypto'
import { resolve } from 'node:path'
import { InvalidArgumentError, MAX_LINK_TRACKERS, normalizeTrackerUrl, ShoalError } from '@shoal/protocol'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { DEFAULT_PORT, defaultDataDir } from './defaults.js'
import type { PeerInit } from './index.js'

/** Every option with its default filled in and checked. */
export type PeerOptions = Required<Omit<PeerInit, 'trackerToken' | 'heartbeatMs' | 'ca'>> & Pick<PeerInit, 'trackerToken' | 'heartbeatMs' | 'ca'> & { log: Logger }

/** Fills defaults and validates every option, naming the bad one. */
export function resolveOptions(init: PeerInit): PeerOptions {
  const o: PeerOptions = {
    dataDir: resolve(init.dataDir ?? defaultDataDir()),
    trackers: [...new Set((init.trackers ?? []).map(trackerUrl))],
    trackerToken: init.trackerToken,
    ca: init.ca,
    host: init.host ?? '0.0.0.0',
    port: init.port ?? DEFAULT_PORT,
    uploadLimit: init.uploadLimit ?? 0,
    downloadLimit: init.downloadLimit ?? 0,
    maxUploads: init.maxUploads ?? 8,
    maxConnections: init.maxConnections ?? 256,
    idleTimeoutMs: init.idleTimeoutMs ?? 60_000,
    slotYieldMs: init.slotYieldMs ?? 2_000,
    stallTimeoutMs: init.stallTimeoutMs ?? 15_000,
    perPeerInflight: init.perPeerInflight ?? 8,
    globalInflight: init.globalInflight ?? 64,
    storeBacklogBytes: init.storeBacklogBytes ?? 32 * 1024 * 1024,
    maxPeersPerDownload: init.maxPeersPerDownload ?? 30,
    reconnect: init.reconnect ?? { initialMs: 500, maxMs: 30_000 },
    requestTimeoutMs: init.requestTimeoutMs ?? 15_000,
    connectTimeoutMs: init.connectTimeoutMs ?? 5_000,
    trackerTimeoutMs: init.trackerTimeoutMs ?? 10_000,
    heartbeatMs: init.heartbeatMs,
    findIntervalMs: init.findIntervalMs ?? 5_000,
    haveDelayMs: init.haveDelayMs ?? 50,
    banAfter: init.banAfter ?? 2,
    busyRetryMs: init.busyRetryMs ?? 1_000,
    spreadPatienceMs: init.spreadPatienceMs ?? 4_000,
    log: init.log ?? pino({ level: 'silent' }),
  }
  if (o.trackers.length > MAX_LINK_TRACKERS) throw new InvalidArgumentError('trackers', `at most ${MAX_LINK_TRACKERS} (a share link names no more)`)
  check('port', o.port, 0, 0xffff)
  for (const key of ['maxUploads', 'maxConnections', 'perPeerInflight', 'globalInflight', 'maxPeersPerDownload', 'banAfter'] as const) check(key, o[key], 1, 1e6)
  for (const key of ['uploadLimit', 'downloadLimit'] as const) check(key, o[key], 0, Number.MAX_SAFE_INTEGER)
  check('storeBacklogBytes', o.storeBacklogBytes, 1, Number.MAX_SAFE_INTEGER)
  for (const key of ['requestTimeoutMs', 'connectTimeoutMs', 'trackerTimeoutMs', 'findIntervalMs', 'busyRetryMs', 'spreadPatienceMs', 'idleTimeoutMs', 'slotYieldMs'] as const) check(key, o[key], 1, 3_600_000)
  check('stallTimeoutMs', o.stallTimeoutMs, o.slotYieldMs + 1, 3_600_000)
  check('haveDelayMs', o.haveDelayMs, 0, 60_000)
  if (o.heartbeatMs !== undefined) check('heartbeatMs', o.heartbeatMs, 1, 3_600_000)
  check('reconnect.initialMs', o.reconnect.initialMs, 1, 3_600_000)
  check('reconnect.maxMs', o.reconnect.maxMs, o.reconnect.initialMs, 3_600_000)
  if (o.ca !== undefined) checkCertificates(o.ca)
  return o
}

function check(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}`)
  }
}

function trackerUrl(url: string): string {
  try {
    return normalizeTrackerUrl(url)
  } catch (err) {
    throw new InvalidArgumentError('trackers', (err as ShoalError).message)
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/** Every certificate in `pem` must parse; there must be at least one. */
function checkCertificates(pem: string): void {
  const blocks = typeof pem === 'string' ? pem.match(PEM_CERTIFICATE) ?? [] : []
  if (blocks.length === 0) throw new InvalidArgumentError('ca', 'no PEM certificate in it (-----BEGIN CERTIFICATE-----)')
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (err) {
      throw new InvalidArgumentError('ca', `a certificate in it does not parse: ${(err as Error).message}`)
    }
  }
}
