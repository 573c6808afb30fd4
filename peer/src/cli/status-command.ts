import { Command } from 'commander'
import type { ContentStatus } from '../peer.js'
import { daemonOf } from './context.js'
import { escapeControls, printJson } from './output.js'
import { formatBytes, formatRate } from './units.js'

const NO_CONTENTS = 'no contents; share one with: shoal share <path>'

/** The fields `shoal status --json` promises for each content. */
function summary(c: ContentStatus) {
  const { id, name, size, chunks, have, state, peers, downloadedBytes, uploadedBytes, downloadRate, uploadRate, path, error } = c
  return { id, name, size, chunks, have, state, peers, downloadedBytes, uploadedBytes, downloadRate, uploadRate, path, error }
}

export function statusCommand(): Command {
  return new Command('status')
    .description('show every content with its progress, peers and transfer rates, and the trackers')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const status = await (await daemonOf(cmd)).status()
      if (o.json) return printJson({ peerId: status.peerId, port: status.port, trackers: status.trackers, contents: status.contents.map(summary) })
      const lines = [`peer ${status.peerId.slice(0, 12)} on port ${status.port}`]
      for (const t of status.trackers) lines.push(`tracker ${escapeControls(t.url)}: ${t.state}${t.error ? ` (${escapeControls(t.error)})` : ''}`)
      if (status.contents.length === 0) lines.push(NO_CONTENTS)
      for (const c of status.contents) {
        const pct = c.chunks === 0 ? 100 : Math.floor((c.have / c.chunks) * 100)
        lines.push(`${c.id.slice(0, 12)}  ${c.state.padEnd(11)} ${String(pct).padStart(3)}%  ${formatBytes(c.size).padStart(10)}  `
          + `${c.peers} peers  ↓ ${formatRate(c.downloadRate)}  ↑ ${formatRate(c.uploadRate)}  ${escapeControls(c.name)}${c.error ? `  (${escapeControls(c.error)})` : ''}`)
      }
      process.stdout.write(`${lines.join('\n')}\n`)
    })
}

export function lsCommand(): Command {
  return new Command('ls')
    .description('list contents: id, state, name and where they are on disk')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const { contents } = await (await daemonOf(cmd)).status()
      if (o.json) return printJson(contents.map(({ id, name, state, size, path, link }) => ({ id, name, state, size, path, link })))
      if (contents.length === 0) process.stdout.write(`${NO_CONTENTS}\n`)
      for (const c of contents) process.stdout.write(`${c.id}  ${c.state.padEnd(11)}  ${escapeControls(c.name)}  ${escapeControls(c.path)}\n`)
    })
}
