import { setTimeout as sleep } from 'node:timers/promises'

export interface WaitOptions {
  /** Give up after this long. Default 10 s. */
  timeoutMs?: number
  /** Poll interval. Default 50 ms. */
  intervalMs?: number
  /** Named in the timeout error. */
  what?: string
}

/**
 * Polls `check` until it returns something other than undefined/false, for states only
 * observable by asking (another process's status). Bounded in time and so in count, even
 * when a check itself never settles (a process that accepts a request and never answers).
 */
export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const deadline = Date.now() + timeoutMs
  const timedOut = (): Error => new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`)
  for (let attempt = 0; attempt < timeoutMs; attempt++) {
    const value = await within(Promise.resolve().then(check), Math.max(0, deadline - Date.now()), timedOut)
    if (value !== undefined && value !== false) return value
    if (Date.now() >= deadline) break
    await sleep(options.intervalMs ?? 50)
  }
  throw timedOut()
}

/** `promise`, or a rejection with `failure()` once `ms` have passed first. */
export function within<T>(promise: Promise<T>, ms: number, failure: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(failure()), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}
