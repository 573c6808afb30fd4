import { createHash } from 'node:crypto'
import { parentPort } from 'node:worker_threads'
import type { HashReply, HashRequest } from './chunk-hasher.js'

// Reads the chunk where it lies, in memory shared with the daemon's thread: nothing is copied.
parentPort?.on('message', ({ seq, memory, offset, length }: HashRequest) => {
  const digest = createHash('sha256').update(new Uint8Array(memory, offset, length)).digest()
  parentPort?.postMessage({ seq, digest } satisfies HashReply)
})
