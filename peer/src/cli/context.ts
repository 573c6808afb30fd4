import { resolve } from 'node:path'
import type { Command } from 'commander'
import { ControlClient } from '../control/control-client.js'

/** The global --data-dir of whatever command is running. */
export function dataDirOf(cmd: Command): string {
  return resolve(cmd.optsWithGlobals<{ dataDir: string }>().dataDir)
}

/** A client for the daemon of this data folder; fails saying how to start one. */
export function daemonOf(cmd: Command): Promise<ControlClient> {
  return ControlClient.connect(dataDirOf(cmd))
}
