import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { TrackerInit, TrackerTls } from '../index.js'
import type { CliSettings } from './settings.js'

/** The tracker the settings describe; reads the TLS files. */
export async function trackerInitOf(settings: CliSettings, logger: Logger): Promise<TrackerInit> {
  return {
    host: settings.host,
    port: settings.port,
    dataDir: settings.dataDir,
    token: settings.token,
    trustProxy: settings.trustProxy,
    tls: await readTls(settings),
    ttlMs: settings.ttl * 1000,
    registerTimeoutMs: Math.round(settings.registerTimeout * 1000),
    limits: {
      maxContentsPerPeer: settings.maxContentsPerPeer,
      maxIndexedChunks: settings.maxIndexedChunks,
      maxChunksPerPeer: settings.maxChunksPerPeer,
      messageRate: settings.messageRate,
      messageBurst: settings.messageBurst,
      maxManifestBytes: settings.maxManifestBytes,
      maxConnectionsPerIp: settings.maxConnectionsPerIp,
    },
    logger,
  }
}

/** Both files or neither. */
async function readTls({ tlsCert, tlsKey }: CliSettings): Promise<TrackerTls | undefined> {
  if (tlsCert === undefined && tlsKey === undefined) return undefined
  if (tlsCert === undefined || tlsKey === undefined) throw new Error('--tls-cert and --tls-key go together: give both or neither')
  const read = (flag: string, file: string): Promise<Buffer> =>
    readFile(file).catch((err: Error) => { throw new Error(`cannot read ${flag} ${file}: ${err.message}`) })
  return { cert: await read('--tls-cert', tlsCert), key: await read('--tls-key', tlsKey) }
}
