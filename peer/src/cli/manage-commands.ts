import { Command } from 'commander'
import type { ContentStatus } from '../peer.js'
import { daemonOf } from './context.js'
import { escapeControls } from './output.js'

export function rmCommand(): Command {
  return new Command('rm')
    .description('stop sharing and forget a content (files stay unless --delete-files)')
    .argument('<id>', 'content id or a unique prefix of it')
    .option('--delete-files', 'also delete the files a download wrote, and its folders left empty (shared files, and anything else in those folders, stay)')
    .action(async (id: string, o: { deleteFiles?: boolean }, cmd: Command) => {
      await (await daemonOf(cmd)).remove(id, o.deleteFiles === true)
      process.stdout.write(`removed ${id}\n`)
    })
}

/** A command acting on one content by id, printing what it became. */
function contentCommand(name: 'pause' | 'resume', description: string, done: (s: ContentStatus) => string): Command {
  return new Command(name)
    .description(description)
    .argument('<id>', 'content id or a unique prefix of it')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      process.stdout.write(`${done(await (await daemonOf(cmd))[name](id))}\n`)
    })
}

export function pauseCommand(): Command {
  return contentCommand('pause', 'stop transferring a content and leave its swarm (kept on disk)', (s) => `paused ${s.id.slice(0, 12)} ${escapeControls(s.name)}`)
}

export function resumeCommand(): Command {
  return contentCommand('resume', 'resume a paused or failed content', (s) => `${s.state} ${s.id.slice(0, 12)} ${escapeControls(s.name)}`)
}
