/**
 * Loaded with `--import` into a command under test: every timer fires a thousand times
 * sooner, so a time limit of minutes inside Node (fetch gives up on headers after 300 s)
 * runs out in well under a second while the server the command talks to keeps real time.
 */
const realSetTimeout = globalThis.setTimeout

globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) =>
  realSetTimeout(callback, Math.ceil((ms ?? 0) / 1000), ...args)) as typeof setTimeout

export {}
