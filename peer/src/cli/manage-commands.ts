import { Command } from 'commander'
import { InvalidArgumentError } from '@shoal/protocol'
import type { ContentStatus } from '../peer.js'
import { daemonOf } from './context.js'
import { escapeControls } from './output.js'

export function rmCommand(): Command {
  return new Command('rm')
    .description('stop sharing and forget a content (files stay unless --delete-files)')
    .argument('<id>', 'content id or a unique prefix of it')
    .option('--delete-files', 'also delete the files a download wrote, and its folders left empty (shared files, and anything else in those folders, stay)')
    .action(async (id: string, o: { deleteFiles?: boolean }, cmd: Command) => {
      checkId(id)
      const daemon = await daemonOf(cmd)
      // Named first, so that what is removed is said by its id and name, not by the prefix typed.
      const s = await daemon.content(id)
      await daemon.remove(s.id, o.deleteFiles === true)
      process.stdout.write(`removed ${s.id.slice(0, 12)} ${escapeControls(s.name)}\n`)
    })
}

/** A command acting on one content by id, printing what it became. */
function contentCommand(name: 'pause' | 'resume', description: string, done: (s: ContentStatus) => string): Command {
  return new Command(name)
    .description(description)
    .argument('<id>', 'content id or a unique prefix of it')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      checkId(id)
      process.stdout.write(`${done(await (await daemonOf(cmd))[name](id))}\n`)
    })
}

export function pauseCommand(): Command {
  return contentCommand('pause', 'stop transferring a content and leave its swarm (kept on disk)', (s) => `paused ${s.id.slice(0, 12)} ${escapeControls(s.name)}`)
}

export function resumeCommand(): Command {
  return contentCommand('resume', 'resume a paused or failed content', (s) => `${s.state} ${s.id.slice(0, 12)} ${escapeControls(s.name)}`)
}

/** An empty id would name no content but the collection itself. */
function checkId(id: string): void {
  if (id === '') throw new InvalidArgumentError('id', 'give a content id or the start of one')
}
