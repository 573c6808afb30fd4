import { readFile, rm } from 'node:fs/promises'
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

export function writeDaemonFile(dataDir: string, info: DaemonFile): Promise<void> {
  return writePrivate(daemonFilePath(dataDir), `${JSON.stringify(info, null, 2)}\n`)
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
