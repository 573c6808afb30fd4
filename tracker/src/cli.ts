#!/usr/bin/env node
import { pino } from 'pino'
import { parseSettings } from './cli/program.js'
import type { CliSettings } from './cli/settings.js'
import { trackerInitOf } from './cli/tracker-init.js'
import { applyTrackerHeapSettings, createTracker } from './index.js'
import type { Tracker } from './index.js'

/** SIGTERM/SIGINT must end the process within this, even if something hangs. */
const SHUTDOWN_DEADLINE_MS = 4500

async function main(): Promise<void> {
  const settings = await parseSettings(process.argv)
  const logger = pino({ level: settings.logLevel, base: { name: 'shoal-tracker' } }, pino.destination(2))
  logger.debug({ v8Flags: applyTrackerHeapSettings() }, 'heap settings applied')
  const tracker = createTracker(await trackerInitOf(settings, logger))
  try {
    await tracker.listen()
  } catch (err) {
    return fatal(describe(err, settings))
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

function describe(err: unknown, settings: CliSettings): string {
  const code = (err as { code?: string }).code
  if (code === 'EADDRINUSE') return `port ${settings.port} on ${settings.host} is already in use`
  if (code === 'EACCES') return `not allowed to listen on ${settings.host}:${settings.port}`
  if (code === 'LEVEL_LOCKED' || code === 'LEVEL_DATABASE_NOT_OPEN') return `cannot open data directory ${settings.dataDir}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`
  return (err as Error).message
}

function fatal(message: string): void {
  process.stderr.write(`shoal-tracker: ${message}\n`)
  process.exit(1)
}

main().catch((err: unknown) => fatal((err as Error).message))
