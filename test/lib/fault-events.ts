import type { EventEmitter } from 'node:events'

/**
 * The arguments of the next `name` event. Unlike events.once it ignores 'error' (a
 * connection that fails still closes, and the close is what callers wait for). Resolves
 * undefined when `timeoutMs` passes or `until` settles first; either way it leaves no
 * timer or listener behind.
 */
export function nextEvent(emitter: EventEmitter, name: string, timeoutMs?: number, until?: Promise<unknown>): Promise<unknown[] | undefined> {
  return new Promise((resolve) => {
    const finish = (args: unknown[] | undefined): void => {
      clearTimeout(timer)
      emitter.off(name, listener)
      resolve(args)
    }
    const listener = (...args: unknown[]): void => finish(args)
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(undefined), timeoutMs)
    emitter.once(name, listener)
    void until?.then(() => finish(undefined), () => finish(undefined))
  })
}
