import { parentPort } from 'node:worker_threads'
import { decodeManifest, errorCodeOf, manifestChunkCount } from '@shoal/protocol'
import type { CheckReply, CheckRequest } from './manifest-checker.js'

// The full check of a manifest (canonical form, merkle root over up to MAX_CHUNKS hashes)
// takes seconds of CPU for the largest ones: it runs here, off the tracker's event loop.
parentPort?.on('message', ({ seq, bytes }: CheckRequest) => {
  let reply: CheckReply
  try {
    reply = { seq, bytes, chunkCount: manifestChunkCount(decodeManifest(bytes)) }
  } catch (err) {
    reply = { seq, code: errorCodeOf(err), message: (err as Error).message }
  }
  parentPort?.postMessage(reply, 'bytes' in reply ? [reply.bytes.buffer as ArrayBuffer] : [])
})
