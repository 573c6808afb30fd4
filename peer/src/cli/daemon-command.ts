import { readFile } from 'node:fs/promises'
import { Command, Option } from 'commander'
import { InvalidArgumentError } from '@shoal/protocol'
import { DEFAULT_PORT } from '../defaults.js'
import { dataDirOf } from './context.js'
import { applyDaemonConfig, loadDaemonConfig } from './daemon-config.js'
import { parseInteger, parseSize } from './units.js'

export interface DaemonOptions {
  tracker: string[]
  trackerToken?: string
  ca?: string
  config?: string
  host: string
  port: number
  uploadLimit: number
  downloadLimit: number
  maxUploads?: number
  logLevel: string
  // Tuning, hidden from --help: tests and benchmarks pass short real values.
  perPeerInflight?: number
  globalInflight?: number
  reconnectInitialMs?: number
  reconnectMaxMs?: number
  requestTimeoutMs?: number
  connectTimeoutMs?: number
  trackerTimeoutMs?: number
  heartbeatMs?: number
  findIntervalMs?: number
  busyRetryMs?: number
  spreadPatienceMs?: number
}

/** Repeatable, and each value may hold several URLs separated by spaces or commas (as a variable does). */
const collectUrls = (value: string, previous: string[]): string[] => [...previous, ...value.split(/[\s,]+/).filter((u) => u !== '')]

/** Every daemon option may also come from SHOAL_ + its flag in upper snake case: --upload-limit → SHOAL_UPLOAD_LIMIT. */
function withEnv(option: Option): Option {
  return option.env(`SHOAL_${option.attributeName().replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`)
}

const HIDDEN: [string, string][] = [
  ['--per-peer-inflight <n>', 'requests in flight per source'],
  ['--global-inflight <n>', 'requests in flight across downloads'],
  ['--reconnect-initial-ms <ms>', 'first tracker reconnect delay cap'],
  ['--reconnect-max-ms <ms>', 'largest tracker reconnect delay cap'],
  ['--request-timeout-ms <ms>', 'source silence before its requests move elsewhere'],
  ['--connect-timeout-ms <ms>', 'peer connect and handshake timeout'],
  ['--tracker-timeout-ms <ms>', 'tracker request timeout'],
  ['--heartbeat-ms <ms>', 'tracker heartbeat interval'],
  ['--find-interval-ms <ms>', 'how often downloads ask for more sources'],
  ['--busy-retry-ms <ms>', 'retry delay in busy replies'],
  ['--spread-patience-ms <ms>', 'longest a saturated uploader sends a peer elsewhere for a chunk'],
]

export function daemonCommand(): Command {
  const cmd = new Command('daemon')
    .description('run the peer daemon in the foreground (logs JSON lines to stdout; stop with Ctrl-C or SIGTERM)')
    .addHelpText('after', [
      '',
      'Every option may also be set by its variable, or in a --config file (JSON or YAML) under',
      'its name in camelCase, e.g. {"tracker": ["wss://tracker.example"], "uploadLimit": "2M"};',
      'relative paths in a file are relative to it. A flag beats its variable, which beats the',
      'config file, which beats the default.',
    ].join('\n'))
  const options = [
    new Option('--tracker <url>', 'default tracker for shares (repeatable; a variable lists them separated by spaces or commas)').argParser(collectUrls).default([]),
    new Option('--tracker-token <token>', 'token the trackers require'),
    new Option('--ca <file>', 'also trust this PEM CA certificate for wss:// trackers (a private CA)'),
    new Option('--host <address>', 'address to accept peer connections on').default('0.0.0.0'),
    new Option('--port <port>', 'peer-wire port (0 = any free port)').argParser(parseInteger).default(DEFAULT_PORT),
    new Option('--upload-limit <rate>', 'upload limit in bytes/s, K/M/G suffixes (0 = none)').argParser(parseSize).default(0),
    new Option('--download-limit <rate>', 'download limit in bytes/s, K/M/G suffixes (0 = none)').argParser(parseSize).default(0),
    new Option('--max-uploads <n>', 'peers uploaded to at once (others are told busy)').argParser(parseInteger).default(8),
    new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    new Option('--config <file>', 'read options from this JSON or YAML file (.json, .yaml, .yml)'),
    ...HIDDEN.map(([flags, description]) => new Option(flags, description).argParser(parseInteger).hideHelp()),
  ]
  for (const option of options) cmd.addOption(withEnv(option))
  return cmd.action(async (_o: DaemonOptions, self: Command) => {
    const o = await settingsOf(self)
    const ca = o.ca === undefined ? undefined : await readFile(o.ca, 'utf8').catch((err: Error) => {
      throw new Error(`cannot read --ca ${o.ca}: ${err.message}`)
    })
    // Loaded here so the client commands start without the daemon's dependencies.
    const [{ pino }, { startDaemon }] = await Promise.all([import('pino'), import('../daemon.js')])
    const log = pino({ level: o.logLevel, base: { name: 'shoal' } })
    const daemon = await startDaemon({
      dataDir: dataDirOf(self), trackers: o.tracker, trackerToken: o.trackerToken, ca, host: o.host, port: o.port,
      uploadLimit: o.uploadLimit, downloadLimit: o.downloadLimit, maxUploads: o.maxUploads,
      perPeerInflight: o.perPeerInflight, globalInflight: o.globalInflight, requestTimeoutMs: o.requestTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs, trackerTimeoutMs: o.trackerTimeoutMs, heartbeatMs: o.heartbeatMs,
      findIntervalMs: o.findIntervalMs, busyRetryMs: o.busyRetryMs, spreadPatienceMs: o.spreadPatienceMs, log,
      reconnect: o.reconnectInitialMs === undefined && o.reconnectMaxMs === undefined ? undefined
        : { initialMs: o.reconnectInitialMs ?? 500, maxMs: o.reconnectMaxMs ?? Math.max(30_000, o.reconnectInitialMs ?? 0) },
    }).catch((err: unknown) => {
      throw namedAsGiven(self, err)
    })
    const { peer } = daemon
    log.info({ port: peer.port, control: daemon.controlUrl, peerId: peer.peerId, dataDir: peer.options.dataDir, trackers: peer.options.trackers }, 'daemon ready')
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
    })
    log.info('shutting down')
    // A hung close must not keep a supervisor waiting.
    setTimeout(() => process.exit(1), 5000).unref()
    await daemon.close()
  })
}

/** The options after the config file (if any) filled what flags and variables left at their defaults. */
export async function settingsOf(cmd: Command): Promise<DaemonOptions> {
  const file = cmd.getOptionValue('config') as string | undefined
  if (file !== undefined) applyDaemonConfig(cmd, file, await loadDaemonConfig(file))
  return cmd.opts<DaemonOptions>()
}

/** The daemon's names for settings that are not the options' own. */
const SETTING_OF: Record<string, string> = { trackers: 'tracker', 'reconnect.initialMs': 'reconnectInitialMs', 'reconnect.maxMs': 'reconnectMaxMs' }

/**
 * A refused setting named as the user gives it — flag, variable and config key — rather
 * than by the daemon's internal option name.
 */
function namedAsGiven(cmd: Command, err: unknown): unknown {
  if (!(err instanceof InvalidArgumentError)) return err
  const option = cmd.options.find((o) => o.attributeName() === (SETTING_OF[err.argument] ?? err.argument))
  if (option === undefined) return err
  return new InvalidArgumentError(`${option.long} (${option.envVar}, "${option.attributeName()}" in a config file)`, err.reason)
}
