import { Worker } from 'node:worker_threads'
import { ErrorCode, ShoalError } from '@shoal/protocol'

export interface CheckRequest {
  seq: number
  bytes: Uint8Array
}

/** The bytes travel to the worker and back without a copy. */
export type CheckReply = ({ seq: number } & CheckedManifest) | { seq: number; code: ErrorCode; message: string }

/** A verified manifest: its bytes (the ones given to the check), its chunk count and its content's name. */
export interface CheckedManifest {
  bytes: Uint8Array
  chunkCount: number
  name: string
}

interface Waiter {
  resolve: (checked: CheckedManifest) => void
  reject: (err: Error) => void
  bytes: number
}

/**
 * Manifest bytes waiting for the worker, at most. Each connection has at most one check
 * queued (see Session.oneAtATime), so only many connections publishing at once reach this;
 * it is room for several of the largest manifests (about 8 MiB each).
 */
export const MAX_QUEUED_CHECK_BYTES = 64 * 1024 * 1024

const WORKER_URL = new URL('./manifest-check-worker.js', import.meta.url)

/**
 * A check's garbage is short-lived (decoded fields, the merkle working copy, per-node digests):
 * a small young generation collects it as it goes instead of letting it pile up in the
 * tracker's RSS. The old generation cap leaves room for the largest manifest.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 128 }

/**
 * Verifies published manifests in one worker thread, in arrival order, so a large one
 * never blocks the event loop. The worker starts on first use and again after a crash.
 */
export class ManifestChecker {
  private worker: Worker | undefined
  private seq = 0
  private readonly waiters = new Map<number, Waiter>()
  private queuedBytes = 0

  /**
   * Resolves once `bytes` are a valid canonical manifest; else rejects with its ShoalError.
   * `bytes` must be the caller's own copy: its buffer moves to the worker and back.
   */
  check(bytes: Uint8Array): Promise<CheckedManifest> {
    if (this.queuedBytes + bytes.length > MAX_QUEUED_CHECK_BYTES) {
      return Promise.reject(new ShoalError(ErrorCode.BUSY, 'too many manifests are waiting to be checked; publish again later'))
    }
    const seq = ++this.seq
    this.queuedBytes += bytes.length
    return new Promise<CheckedManifest>((resolve, reject) => {
      this.waiters.set(seq, { resolve, reject, bytes: bytes.length })
      this.started().postMessage({ seq, bytes } satisfies CheckRequest, [bytes.buffer as ArrayBuffer])
    })
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker
    // The check needs none of the tracker's own Node flags or loaders.
    const worker = new Worker(WORKER_URL, { resourceLimits: WORKER_LIMITS, execArgv: [] })
    worker.unref()
    worker.on('message', (reply: CheckReply) => this.settle(reply))
    worker.on('error', (err) => this.fail(worker, err))
    worker.on('exit', () => this.fail(worker, new Error('manifest check worker stopped')))
    this.worker = worker
    return worker
  }

  private settle(reply: CheckReply): void {
    const waiter = this.waiters.get(reply.seq) as Waiter
    this.waiters.delete(reply.seq)
    this.queuedBytes -= waiter.bytes
    if ('chunkCount' in reply) waiter.resolve(reply)
    else waiter.reject(new ShoalError(reply.code, reply.message))
  }

  /** Every check in flight fails as an internal error; the next one starts a fresh worker. */
  private fail(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = undefined
    for (const waiter of this.waiters.values()) waiter.reject(new ShoalError(ErrorCode.INTERNAL, err.message, { cause: err }))
    this.waiters.clear()
    this.queuedBytes = 0
  }
}
