import { Worker } from 'node:worker_threads'
import { sha256 } from '@shoal/protocol'

export interface HashRequest {
  seq: number
  memory: SharedArrayBuffer
  offset: number
  length: number
}

export interface HashReply {
  seq: number
  digest: Uint8Array
}

/** What a hasher has done so far: digests by where they were computed, and worker failures. */
export interface HasherCounts {
  /** Digests the worker computed. */
  onWorker: number
  /** Digests computed on the calling thread: short or unshared chunks, the worker's failures, after close. */
  here: number
  /** Times the worker could not start or stopped unasked (a crash), all told. */
  workerFailures: number
}

/**
 * A chunk at least this long is worth the trip to the worker (a message each way, tens of
 * microseconds); a shorter one is hashed on the spot.
 */
const OFFLOAD_BYTES = 256 * 1024

const WORKER_URL = new URL('./hash-worker.js', import.meta.url)

/** After this many worker failures in a row (it cannot start, or keeps dying), hash here for good. */
const MAX_FAILURES = 3

/**
 * SHA-256 of received chunks on a thread of its own, so the daemon's event loop goes on
 * reading sockets while a chunk is hashed: a single-source download is otherwise bound by
 * one core doing both. Only chunks in shared memory (the download's receive blocks) can be
 * hashed there without a copy; anything else is hashed in place. The worker starts on first
 * use, holds the process open only while it has work, and starts again after a crash (what
 * it had in flight is hashed here: a crash never fails a download).
 */
export class ChunkHasher {
  private worker: Worker | undefined
  private seq = 0
  /** Settles each hash in flight with its digest, or with nothing when the worker stopped. */
  private readonly pending = new Map<number, (digest: Uint8Array | undefined) => void>()
  private failures = 0
  private closed = false
  private readonly tally: HasherCounts = { onWorker: 0, here: 0, workerFailures: 0 }

  /** `workerUrl`: the worker's module (tests name one that fails). */
  constructor(private readonly workerUrl: URL = WORKER_URL) {}

  /** A copy of the counts, which only the hasher changes: lets tests see which path was taken. */
  get counts(): HasherCounts {
    return { ...this.tally }
  }

  async digest(data: Uint8Array): Promise<Uint8Array> {
    const here = (): Uint8Array => {
      this.tally.here++
      return sha256(data)
    }
    if (this.closed || this.failures >= MAX_FAILURES || !(data.buffer instanceof SharedArrayBuffer) || data.length < OFFLOAD_BYTES) return here()
    const seq = ++this.seq
    let worker: Worker
    try {
      worker = this.worker ??= this.spawn()
    } catch {
      this.failed()
      return here()
    }
    if (this.pending.size === 0) worker.ref()
    worker.postMessage({ seq, memory: data.buffer as SharedArrayBuffer, offset: data.byteOffset, length: data.length } satisfies HashRequest)
    const outcome = await new Promise<Uint8Array | undefined>((settle) => this.pending.set(seq, settle))
    // The worker stopped before answering: the chunk is still here, so hash it here.
    if (outcome === undefined) return here()
    this.tally.onWorker++
    return outcome
  }

  /** Stops the worker; later digests are computed in place. */
  async close(): Promise<void> {
    this.closed = true
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private failed(): void {
    this.failures++
    this.tally.workerFailures++
  }

  private spawn(): Worker {
    const worker = new Worker(this.workerUrl, { execArgv: [] })
    worker.unref()
    worker.on('message', ({ seq, digest }: HashReply) => {
      this.failures = 0
      this.pending.get(seq)?.(digest)
      this.pending.delete(seq)
      if (this.pending.size === 0) worker.unref()
    })
    // Hashes in flight are done here instead; the next one starts a fresh worker. ('exit'
    // follows 'error': the second must not take hashes already sent to that fresh one.)
    let down = false
    const stopped = (): void => {
      if (down) return
      down = true
      if (!this.closed) this.failed()
      if (this.worker === worker) this.worker = undefined
      for (const settle of this.pending.values()) settle(undefined)
      this.pending.clear()
    }
    worker.on('error', stopped)
    worker.on('exit', stopped)
    return worker
  }
}
