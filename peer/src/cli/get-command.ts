import { setTimeout as sleep } from 'node:timers/promises'
import cliProgress from 'cli-progress'
import { Command } from 'commander'
import { parseLink } from '@shoal/protocol'
import type { ControlClient } from '../control/control-client.js'
import type { ContentStatus } from '../peer.js'
import { daemonOf } from './context.js'
import { CliExit, escapeControls, printJson } from './output.js'
import { formatBytes, formatEta, formatRate } from './units.js'

const POLL_MS = 250

export function getCommand(): Command {
  return new Command('get')
    .description('download a share link; shows progress until the content is complete and verified')
    .argument('<link>', 'shoal: link')
    .option('-o, --output <path>', 'file or folder to write (an existing folder receives it under its name)')
    .option('--json', 'print the final result as JSON instead of a progress bar')
    .action(async (link: string, o: { output?: string; json?: boolean }, cmd: Command) => {
      parseLink(link)
      const daemon = await daemonOf(cmd)
      // From the request on the daemon has the content: Ctrl-C stops only this command, and says so.
      let bar: cliProgress.SingleBar | undefined
      const onInterrupt = (): void => {
        bar?.stop()
        process.stderr.write(`\nthe download goes on in the daemon; follow it with: shoal status\n`)
        process.exit(130)
      }
      process.once('SIGINT', onInterrupt)
      let final: ContentStatus
      try {
        if (!o.json && process.stderr.isTTY) process.stderr.write('fetching the manifest…\n')
        const started = await daemon.get(link, { output: o.output, cwd: process.cwd() })
        if (o.json) final = await waitDone(daemon, started)
        else {
          bar = progressBar(started)
          final = await withProgress(daemon, started, bar)
        }
      } finally {
        process.off('SIGINT', onInterrupt)
      }
      if (o.json) printJson(final)
      if (final.state === 'failed') throw new CliExit(`download failed: ${final.error ?? 'unknown error'}`)
      if (final.state === 'paused') throw new CliExit(`download is paused; resume it with: shoal resume ${final.id.slice(0, 12)}`)
      if (!o.json) process.stdout.write(`done: ${escapeControls(final.path)} (${formatBytes(final.size)}, ${final.chunks} chunks verified)\n`)
    })
}

async function waitDone(daemon: ControlClient, status: ContentStatus, onUpdate?: (s: ContentStatus) => void): Promise<ContentStatus> {
  while (status.state === 'downloading') {
    onUpdate?.(status)
    await sleep(POLL_MS)
    status = await daemon.content(status.id)
  }
  return status
}

/** Bytes of `s` verified so far. */
function bytes(s: ContentStatus): number {
  return s.chunks === 0 ? s.size : Math.round((s.have / s.chunks) * s.size)
}

function progressBar(status: ContentStatus): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar({
    format: '{bar} {percentage}% | {speed} | ETA {timeLeft} | {peers} peers | {name}',
    hideCursor: true,
  }, cliProgress.Presets.shades_classic)
  bar.start(Math.max(1, status.size), bytes(status), figures(status))
  return bar
}

/** What the bar shows beside itself. The ETA is the daemon's rate, not the bar's own guess (which reads "NFs" while nothing flows). */
function figures(s: ContentStatus): Record<string, string | number> {
  const peers = s.sources.filter((x) => x.connected).length
  return { speed: formatRate(s.downloadRate), peers, timeLeft: formatEta(s.size - bytes(s), s.downloadRate, peers), name: escapeControls(s.name) }
}

/** The bar follows the download until it is done. */
async function withProgress(daemon: ControlClient, status: ContentStatus, bar: cliProgress.SingleBar): Promise<ContentStatus> {
  try {
    const final = await waitDone(daemon, status, (s) => bar.update(bytes(s), figures(s)))
    bar.update(bytes(final), figures(final))
    return final
  } finally {
    bar.stop()
  }
}
