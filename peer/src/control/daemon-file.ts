import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writePrivate } from '../identity.js'

/** What `<data-dir>/daemon.json` tells clients: where the control API is and its token. */
export interface DaemonFile {
  url: string
  token: string
  pid: number
  peerId: string
  /** The peer-wire port. */
  port: number
}

export function daemonFilePath(dataDir: string): string {
  return join(dataDir, 'daemon.json')
}

export async function writeDaemonFile(dataDir: string, info: DaemonFile): Promise<void> {
  const text = `${JSON.stringify(info, null, 2)}\n`
  try {
    await writePrivate(daemonFilePath(dataDir), text)
  } catch (err) {
    // A full disk has no room for the temp file; one left by a killed daemon is rewritten in place
    // (a reader of a half-written file sees no daemon and tries again).
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
    await writeFile(daemonFilePath(dataDir), text, { mode: 0o600 })
  }
}

export async function readDaemonFile(dataDir: string): Promise<DaemonFile | undefined> {
  try {
    const info = JSON.parse(await readFile(daemonFilePath(dataDir), 'utf8')) as DaemonFile
    return typeof info.url === 'string' && typeof info.token === 'string' ? info : undefined
  } catch {
    return undefined
  }
}

export async function removeDaemonFile(dataDir: string): Promise<void> {
  await rm(daemonFilePath(dataDir), { force: true })
}
