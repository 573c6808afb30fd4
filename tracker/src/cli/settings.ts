import { MAX_REGISTER_CONTENTS } from '@shoal/protocol'
import { DEFAULTS } from '../config.js'
import { boolean, bytes, choice, integer, path, seconds, text } from './value-types.js'
import type { ValueType } from './value-types.js'

/** What the CLI is told, after flags, environment, config file and defaults are layered. */
export interface CliSettings {
  config?: string
  host: string
  port: number
  tlsCert?: string
  tlsKey?: string
  trustProxy: boolean
  token?: string
  ttl: number
  registerTimeout: number
  maxContentsPerPeer: number
  maxIndexedChunks: number
  maxChunksPerPeer: number
  messageRate: number
  messageBurst: number
  maxManifestBytes: number
  maxConnectionsPerIp: number
  dataDir: string
  logLevel: string
}

export interface Setting {
  /** camelCase: the config file key. The flag is its kebab-case, the variable SHOAL_TRACKER_ + its snake case. */
  key: keyof CliSettings
  type: ValueType<unknown>
  help: string
  /** The --help section. */
  group: string
  default?: unknown
}

const LISTEN = 'Listening:'
const PEERS = 'Peers:'
const LIMITS = 'Abuse limits:'
export const RUN = 'Storage, logs and configuration:'

/** One table drives the flags, the environment variables, the config file keys and their checks. */
export const SETTINGS: readonly Setting[] = [
  { key: 'host', type: text('<address>'), help: 'interface to listen on', group: LISTEN, default: '0.0.0.0' },
  { key: 'port', type: integer(0, 65535), help: 'TCP port for WebSocket and HTTP', group: LISTEN, default: DEFAULTS.port },
  { key: 'tlsCert', type: path('<file>'), help: 'serve wss:// and https:// with this PEM certificate chain (needs --tls-key)', group: LISTEN },
  { key: 'tlsKey', type: path('<file>'), help: 'the PEM private key of --tls-cert', group: LISTEN },
  { key: 'trustProxy', type: boolean, help: 'take peer addresses from X-Forwarded-For (behind a reverse proxy)', group: LISTEN, default: false },
  { key: 'token', type: text('<secret>'), help: 'require this token on register and for per-content stats', group: PEERS },
  { key: 'ttl', type: integer(1, 86_400, '<seconds>'), help: 'drop peers silent for longer than this', group: PEERS, default: DEFAULTS.ttlMs / 1000 },
  { key: 'registerTimeout', type: seconds(0.01, 3600), help: 'close connections that have not registered by then (decimals allowed)', group: PEERS, default: DEFAULTS.registerTimeoutMs / 1000 },
  { key: 'maxContentsPerPeer', type: integer(1, MAX_REGISTER_CONTENTS), help: 'contents one peer may be in', group: LIMITS, default: DEFAULTS.limits.maxContentsPerPeer },
  { key: 'maxIndexedChunks', type: integer(1, 2 ** 32), help: 'chunks over all contents the index takes (bounds its memory)', group: LIMITS, default: DEFAULTS.limits.maxIndexedChunks },
  { key: 'maxChunksPerPeer', type: integer(1, 2 ** 32), help: 'chunks over the contents one peer is in (its share of the index)', group: LIMITS, default: DEFAULTS.limits.maxChunksPerPeer },
  { key: 'messageRate', type: integer(1, 1_000_000, '<per-second>'), help: 'messages a connection may send per second, on average', group: LIMITS, default: DEFAULTS.limits.messageRate },
  { key: 'messageBurst', type: integer(1, 10_000_000), help: 'messages a connection may send at once beyond the rate', group: LIMITS, default: DEFAULTS.limits.messageBurst },
  { key: 'maxManifestBytes', type: bytes(1, 2 ** 50), help: 'bytes of manifests the data directory keeps, K/M/G/T suffixes (bounds its disk use)', group: LIMITS, default: DEFAULTS.limits.maxManifestBytes },
  { key: 'maxConnectionsPerIp', type: integer(0, 1_000_000), help: 'connections open at once from one address (an IPv6 /64 counts as one; more get HTTP 429); 0 = no limit', group: LIMITS, default: DEFAULTS.limits.maxConnectionsPerIp },
  { key: 'dataDir', type: path('<path>'), help: 'where manifests and counters persist', group: RUN, default: DEFAULTS.dataDir },
  { key: 'logLevel', type: choice('<level>', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), help: 'log level (JSON lines on stderr)', group: RUN, default: 'info' },
  { key: 'config', type: path('<file>'), help: 'read settings from this JSON or YAML file (.json, .yaml, .yml); flags and variables override it', group: RUN },
]

/** `maxContentsPerPeer` → `max-contents-per-peer`. */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

export function envName(key: string): string {
  return `SHOAL_TRACKER_${kebabCase(key).replaceAll('-', '_').toUpperCase()}`
}
