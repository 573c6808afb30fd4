import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fromHex, PEER_ID_BYTES, PEER_KEY_BYTES, toHex } from '@shoal/protocol'

export interface Identity {
  peerId: Uint8Array
  /** Secret that lets this peer take its id over from a stale tracker session. */
  key: Uint8Array
}

/**
 * The peer id and key, kept in `<dataDir>/identity.json` (mode 0600) so a restarted daemon
 * is the same peer to the tracker and replaces its own stale session.
 */
export async function loadIdentity(dataDir: string): Promise<Identity> {
  const path = join(dataDir, 'identity.json')
  const stored = await readFile(path, 'utf8').then((text) => JSON.parse(text) as Record<string, string>, () => undefined)
  const peerId = stored && fromHex(stored.peerId, PEER_ID_BYTES)
  const key = stored && fromHex(stored.key, PEER_KEY_BYTES)
  if (peerId && key) return { peerId, key }
  const fresh = { peerId: new Uint8Array(randomBytes(PEER_ID_BYTES)), key: new Uint8Array(randomBytes(PEER_KEY_BYTES)) }
  await writePrivate(path, JSON.stringify({ peerId: toHex(fresh.peerId), key: toHex(fresh.key) }))
  return fresh
}

/** Writes a file only its owner can read, atomically (temp file, then rename). */
export async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 })
  const temp = `${path}.${process.pid}.tmp`
  try {
    await writeFile(temp, text, { mode: 0o600 })
    await rename(temp, path)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
