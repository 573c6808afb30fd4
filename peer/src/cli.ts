#!/usr/bin/env node
import { Command, Option } from 'commander'
import { defaultDataDir } from './defaults.js'
import { daemonCommand } from './cli/daemon-command.js'
import { getCommand } from './cli/get-command.js'
import { pauseCommand, resumeCommand, rmCommand } from './cli/manage-commands.js'
import { reportError } from './cli/output.js'
import { shareCommand } from './cli/share-command.js'
import { lsCommand, statusCommand } from './cli/status-command.js'

const program = new Command('shoal')
  .description('Shoal peer: share files and fetch them from many peers at once, every chunk verified')
  .addOption(new Option('--data-dir <path>', 'state folder of the daemon').env('SHOAL_DATA_DIR').default(defaultDataDir(), '~/.shoal'))
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')

for (const cmd of [daemonCommand(), shareCommand(), getCommand(), statusCommand(), lsCommand(), rmCommand(), pauseCommand(), resumeCommand()]) {
  program.addCommand(cmd.configureHelp({ showGlobalOptions: true }))
}

try {
  await program.parseAsync()
} catch (err) {
  process.exitCode = reportError(err)
}
