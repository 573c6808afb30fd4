import { connect } from 'node:net'
import { decodeManifest, ErrorCode, formatPeerAddress, isErrorCode, ShoalError } from '@shoal/protocol'
import type { PeerAddress, PeerMessage } from '@shoal/protocol'
import { FramedSocket } from './framed-socket.js'

/**
 * Asks one peer for a content's manifest over the peer wire (`get-manifest`, no
 * handshake needed) and returns the bytes only if they hash to the content id: a peer
 * is never trusted for them. Rejects with the peer's error code (ERR_NOT_FOUND when it
 * does not hold the content), ERR_HASH_MISMATCH, or a connection error.
 */
export function fetchManifestFrom(peer: PeerAddress, content: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const where = formatPeerAddress(peer)
  const socket = new FramedSocket(connect({ host: peer.host, port: peer.port }))
  return new Promise<Uint8Array>((resolve, reject) => {
    const timer = setTimeout(() => done(new ShoalError(ErrorCode.INTERNAL, `peer ${where} did not send the manifest in time`)), timeoutMs)
    const done = (err: Error | undefined, manifest?: Uint8Array): void => {
      clearTimeout(timer)
      socket.removeAllListeners()
      socket.destroy()
      if (err === undefined) resolve(manifest!)
      else reject(err)
    }
    socket.on('message', (msg: PeerMessage) => {
      if (msg.type === 'error' && msg.id === 1) {
        return done(new ShoalError(isErrorCode(msg.code) ? msg.code : ErrorCode.INTERNAL, `peer ${where}: ${msg.message}`))
      }
      if (msg.type !== 'manifest' || msg.id !== 1) return done(new ShoalError(ErrorCode.BAD_MESSAGE, `peer ${where} answered with ${msg.type}`))
      try {
        decodeManifest(msg.manifest, content)
      } catch (err) {
        return done(new ShoalError((err as ShoalError).code ?? ErrorCode.BAD_MESSAGE, `manifest from peer ${where}: ${(err as Error).message}`))
      }
      done(undefined, msg.manifest)
    })
    socket.on('invalid', (err) => done(err))
    socket.on('close', (err) => done(err ?? new ShoalError(ErrorCode.INTERNAL, `peer ${where} closed the connection`)))
    socket.socket.once('connect', () => socket.send({ type: 'get-manifest', id: 1, content }))
  })
}
