#!/usr/bin/env -S UV_USE_IO_URING=0 node
// UV_USE_IO_URING=0: libuv's io_uring runs buffered file writes inline on the event loop;
// the thread pool keeps them off it (measured 25-40% faster downloads to tmpfs).
import { createRequire } from 'node:module'
import { Command, Option } from 'commander'
import { defaultDataDir } from './defaults.js'
import { daemonCommand } from './cli/daemon-command.js'
import { getCommand } from './cli/get-command.js'
import { pauseCommand, resumeCommand, rmCommand } from './cli/manage-commands.js'
import { reportError } from './cli/output.js'
import { shareCommand } from './cli/share-command.js'
import { statsCommand } from './cli/stats-command.js'
import { lsCommand, statusCommand } from './cli/status-command.js'

const program = new Command('shoal')
  .description('Shoal peer: share files and fetch them from many peers at once, every chunk verified')
  .addOption(new Option('--data-dir <path>', 'state folder of the daemon').env('SHOAL_DATA_DIR').default(defaultDataDir(), '~/.shoal'))
  .configureHelp({ showGlobalOptions: true })
  .showHelpAfterError('(add --help for usage)')
  // From dist/src/, the package.json two folders up.
  .version((createRequire(import.meta.url)('../../package.json') as { version: string }).version, '-V, --version', 'print the version')

for (const cmd of [daemonCommand(), shareCommand(), getCommand(), statusCommand(), lsCommand(), rmCommand(), pauseCommand(), resumeCommand(), statsCommand()]) {
  program.addCommand(cmd.configureHelp({ showGlobalOptions: true }))
}

try {
  await program.parseAsync()
} catch (err) {
  process.exitCode = reportError(err)
}
