import { randomBytes } from 'node:crypto'
import { ControlServer } from './control/control-server.js'
import { removeDaemonFile, writeDaemonFile } from './control/daemon-file.js'
import type { PeerInit } from './index.js'
import { Peer } from './peer.js'

export type DaemonInit = PeerInit

/** A peer plus its local control API, advertised in `<data-dir>/daemon.json`. */
export interface Daemon {
  peer: Peer
  /** Control API base URL (http://127.0.0.1:port). */
  controlUrl: string
  close(): Promise<void>
}

export async function startDaemon(init: DaemonInit = {}): Promise<Daemon> {
  const peer = new Peer(init)
  await peer.start()
  const token = randomBytes(32).toString('hex')
  const control = new ControlServer(peer, token, peer.log)
  let controlUrl: string
  try {
    controlUrl = await control.listen()
    await writeDaemonFile(peer.options.dataDir, { url: controlUrl, token, pid: process.pid, peerId: peer.peerId, port: peer.port })
  } catch (err) {
    // Everything listening goes, or the process lives on and its supervisor never restarts it.
    await control.close()
    await peer.close()
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    peer,
    controlUrl,
    close: () => (closing ??= (async () => {
      await removeDaemonFile(peer.options.dataDir)
      await control.close()
      await peer.close()
    })()),
  }
}
