#!/usr/bin/env node
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import { pino } from 'pino'
import { createTracker } from './index.js'
import type { Tracker } from './index.js'

/** SIGTERM/SIGINT must end the process within this, even if something hangs. */
const SHUTDOWN_DEADLINE_MS = 4500

interface CliOptions {
  host: string
  port: number
  dataDir: string
  token?: string
  ttl: number
  trustProxy: boolean
  logLevel: string
  tlsCert?: string
  tlsKey?: string
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`)
    return n
  }
}

function boolean(value: string): boolean {
  if (/^(true|1|yes|on)$/i.test(value)) return true
  if (/^(false|0|no|off)$/i.test(value)) return false
  throw new InvalidArgumentError('must be true or false')
}

const program = new Command('shoal-tracker')
  .description('Shoal tracker: the live index of which peers hold which chunks, over WebSockets, with HTTP stats')
  .addOption(new Option('--host <address>', 'interface to listen on').env('SHOAL_TRACKER_HOST').default('0.0.0.0'))
  .addOption(new Option('--port <number>', 'TCP port for WebSocket and HTTP').env('SHOAL_TRACKER_PORT').default(7070).argParser(integer(0, 65535)))
  .addOption(new Option('--data-dir <path>', 'where manifests and counters persist').env('SHOAL_TRACKER_DATA_DIR').default('./shoal-tracker-data'))
  .addOption(new Option('--token <secret>', 'require this token on register and for per-content stats').env('SHOAL_TRACKER_TOKEN'))
  .addOption(new Option('--ttl <seconds>', 'drop peers silent for longer than this').env('SHOAL_TRACKER_TTL').default(60).argParser(integer(1, 86_400)))
  .addOption(new Option('--trust-proxy [bool]', 'take peer addresses from X-Forwarded-For (behind a reverse proxy)').env('SHOAL_TRACKER_TRUST_PROXY').default(false).argParser(boolean))
  .addOption(new Option('--log-level <level>', 'log level (JSON lines on stderr)').env('SHOAL_TRACKER_LOG_LEVEL').default('info')
    .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']))
  .addOption(new Option('--tls-cert <file>', 'serve wss:// and https:// with this PEM certificate chain (needs --tls-key)').env('SHOAL_TRACKER_TLS_CERT'))
  .addOption(new Option('--tls-key <file>', 'the PEM private key of --tls-cert').env('SHOAL_TRACKER_TLS_KEY'))

/** Both files or neither. */
async function readTls(options: CliOptions): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together: give both or neither')
  if (options.tlsCert === undefined || options.tlsKey === undefined) return undefined
  const read = (flag: string, path: string) => readFile(path).catch((err: Error) => { throw new Error(`cannot read ${flag} ${path}: ${err.message}`) })
  return { cert: await read('--tls-cert', options.tlsCert), key: await read('--tls-key', options.tlsKey) }
}

async function main(): Promise<void> {
  const options = program.parse().opts<CliOptions>()
  const logger = pino({ level: options.logLevel, base: { name: 'shoal-tracker' } }, pino.destination(2))
  const tracker = createTracker({
    host: options.host, port: options.port, dataDir: options.dataDir, token: options.token,
    ttlMs: options.ttl * 1000, trustProxy: options.trustProxy, tls: await readTls(options), logger,
  })
  try {
    await tracker.listen()
  } catch (err) {
    return fatal(describe(err, options))
  }
  process.stdout.write(`tracker ${tracker.url}\nstats ${tracker.httpUrl}/stats\n`)
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void shutdown(tracker, signal, logger))
}

async function shutdown(tracker: Tracker, signal: string, logger: pino.Logger): Promise<void> {
  logger.info({ signal }, 'shutting down')
  setTimeout(() => fatal(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS} ms`), SHUTDOWN_DEADLINE_MS).unref()
  try {
    await tracker.close()
  } catch (err) {
    return fatal(`shutdown failed: ${(err as Error).message}`)
  }
  process.exit(0)
}

function describe(err: unknown, options: CliOptions): string {
  const code = (err as { code?: string }).code
  if (code === 'EADDRINUSE') return `port ${options.port} on ${options.host} is already in use`
  if (code === 'EACCES') return `not allowed to listen on ${options.host}:${options.port}`
  if (code === 'LEVEL_LOCKED' || code === 'LEVEL_DATABASE_NOT_OPEN') return `cannot open data directory ${options.dataDir}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`
  return (err as Error).message
}

function fatal(message: string): void {
  process.stderr.write(`shoal-tracker: ${message}\n`)
  process.exit(1)
}

main().catch((err: unknown) => fatal((err as Error).message))
