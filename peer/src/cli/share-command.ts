import { resolve } from 'node:path'
import { Command } from 'commander'
import { daemonOf } from './context.js'
import { escapeControls, printJson } from './output.js'
import { parseSize } from './units.js'

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
      // The daemon words each warning; a tracker wrote part of it, so it is printed escaped.
      for (const w of r.warnings) process.stderr.write(`warning: ${escapeControls(w)}\n`)
      if (o.json) printJson({ id: r.id, link: r.link, name: r.name, size: r.size, chunks: r.chunks })
      else process.stdout.write(`${r.link}\n`)
    })
}
