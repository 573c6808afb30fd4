import { Command, Option } from 'commander'
import { DEFAULT_PORT } from '../defaults.js'
import { dataDirOf } from './context.js'
import { parseInteger, parseSize } from './units.js'

interface DaemonOptions {
  tracker: string[]
  trackerToken?: string
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

const collect = (value: string, previous: string[]): string[] => [...previous, value]

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
    .option('--tracker <url>', 'default tracker for shares (repeatable)', collect, [])
    .addOption(new Option('--tracker-token <token>', 'token the trackers require').env('SHOAL_TRACKER_TOKEN'))
    .option('--host <address>', 'address to accept peer connections on', '0.0.0.0')
    .option('--port <port>', 'peer-wire port (0 = any free port)', parseInteger, DEFAULT_PORT)
    .option('--upload-limit <rate>', 'upload limit in bytes/s, K/M/G suffixes (0 = none)', parseSize, 0)
    .option('--download-limit <rate>', 'download limit in bytes/s, K/M/G suffixes (0 = none)', parseSize, 0)
    .option('--max-uploads <n>', 'peers uploaded to at once (others are told busy)', parseInteger, 8)
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'))
  for (const [flags, description] of HIDDEN) cmd.addOption(new Option(flags, description).argParser(parseInteger).hideHelp())
  return cmd.action(async (o: DaemonOptions, self: Command) => {
    // Loaded here so the client commands start without the daemon's dependencies.
    const [{ pino }, { startDaemon }] = await Promise.all([import('pino'), import('../daemon.js')])
    const log = pino({ level: o.logLevel, base: { name: 'shoal' } })
    const daemon = await startDaemon({
      dataDir: dataDirOf(self), trackers: o.tracker, trackerToken: o.trackerToken, host: o.host, port: o.port,
      uploadLimit: o.uploadLimit, downloadLimit: o.downloadLimit, maxUploads: o.maxUploads,
      perPeerInflight: o.perPeerInflight, globalInflight: o.globalInflight, requestTimeoutMs: o.requestTimeoutMs,
      connectTimeoutMs: o.connectTimeoutMs, trackerTimeoutMs: o.trackerTimeoutMs, heartbeatMs: o.heartbeatMs,
      findIntervalMs: o.findIntervalMs, busyRetryMs: o.busyRetryMs, spreadPatienceMs: o.spreadPatienceMs, log,
      reconnect: o.reconnectInitialMs === undefined && o.reconnectMaxMs === undefined ? undefined
        : { initialMs: o.reconnectInitialMs ?? 500, maxMs: o.reconnectMaxMs ?? Math.max(30_000, o.reconnectInitialMs ?? 0) },
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
