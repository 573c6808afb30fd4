import { resolve } from 'node:path'
import { Command } from 'commander'
import { daemonOf } from './context.js'
import { escapeControls, printJson } from './output.js'
import { parseSize } from './units.js'

/** What the daemon adds to each reason a tracker was not told about a share. */
const NOT_TOLD_YET = '; it will be announced once the tracker is reachable'
/**
 * The tracker client's own reasons for not reaching a tracker or getting no answer in time.
 * The daemon's warnings carry no error code, so any other reason is the text of an error the
 * tracker answered the publish with: a tracker that was reached and refused.
 */
const NOT_REACHED = /^(cannot reach tracker |not connected to |tracker connection ended: )|did not answer publish in time$/

/** One warning as printed: the reason escaped (a tracker wrote it), and what becomes of the share. */
export function shareWarning(warning: string): string {
  const why = warning.endsWith(NOT_TOLD_YET) ? warning.slice(0, -NOT_TOLD_YET.length) : warning
  if (NOT_REACHED.test(why)) return `warning: ${escapeControls(why)}${NOT_TOLD_YET}`
  return `warning: a tracker refused to publish the content (${escapeControls(why)}); peers cannot find it through that tracker`
}

export function shareCommand(): Command {
  return new Command('share')
    .description('share a file or folder and print its link (the daemon reads it in place)')
    .argument('<path>', 'file or folder to share')
    .option('--tracker <url>', 'tracker to announce to (repeatable; default: the daemon\'s)', (v: string, p: string[]) => [...p, v], [])
    .option('--chunk-size <size>', 'chunk size, a power of two from 16K to 16M (default: 1M, larger for huge contents)', parseSize)
    .option('--json', 'print {"id", "link", "name", "size", "chunks"}')
    .action(async (path: string, o: { tracker: string[]; chunkSize?: number; json?: boolean }, cmd: Command) => {
      const daemon = await daemonOf(cmd)
      if (!o.json && process.stderr.isTTY) process.stderr.write(`hashing ${escapeControls(path)}…\n`)
      const r = await daemon.share(resolve(path), { trackers: o.tracker.length > 0 ? o.tracker : undefined, chunkSize: o.chunkSize })
      for (const w of r.warnings) process.stderr.write(`${shareWarning(w)}\n`)
      if (o.json) printJson({ id: r.id, link: r.link, name: r.name, size: r.size, chunks: r.chunks })
      else process.stdout.write(`${r.link}\n`)
    })
}
