import { readlinkSync } from 'node:fs'
import { constants, setPriority } from 'node:os'
import { parentPort } from 'node:worker_threads'
import { decodeManifest, errorCodeOf, manifestChunkCount } from '@shoal/protocol'
import type { CheckReply, CheckRequest } from './manifest-checker.js'

// The full check of a manifest (canonical form, merkle root over up to MAX_CHUNKS hashes)
// takes seconds of CPU for the largest ones: it runs here, off the tracker's event loop,
// and below its priority, so on a busy machine the event loop still answers first.
lowerPriority()

parentPort?.on('message', ({ seq, bytes }: CheckRequest) => {
  let reply: CheckReply
  try {
    const manifest = decodeManifest(bytes)
    reply = { seq, bytes, chunkCount: manifestChunkCount(manifest), name: manifest.name }
  } catch (err) {
    reply = { seq, code: errorCodeOf(err), message: (err as Error).message }
  }
  parentPort?.postMessage(reply, 'bytes' in reply ? [reply.bytes.buffer as ArrayBuffer] : [])
})

/** Linux names this thread in /proc/thread-self; elsewhere the check keeps the normal priority. */
function lowerPriority(): void {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), constants.priority.PRIORITY_BELOW_NORMAL)
  } catch {
    // Not Linux, or not allowed: a missed nicety, not an error.
  }
}
