import { execFile } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect, promisify } from 'node:util'

/** A small seeded generator (xorshift32), so randomized tests replay exactly. */
export function seeded(seed: number): () => number {
  let x = seed | 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A fresh temp folder removed when the test ends. */
export async function tempDir(t: Teardown, prefix = 'shoal-peer-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const run = promisify(execFile)

/**
 * Why smallFileSystem cannot work here (not root, or no right to mount: a trial mount fails),
 * or false where it can: a test's skip option, so the reason shows in the results.
 */
export async function noSmallFileSystem(): Promise<string | false> {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs'
  const trial = await mkdtemp(join(tmpdir(), 'shoal-mount-trial-'))
  try {
    const failed = await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', trial]).then(() => run('umount', [trial]).then(() => undefined), (err: Error) => err)
    return failed === undefined ? false : `cannot mount a tmpfs here: ${failed.message.trim()}`
  } finally {
    await rm(trial, { recursive: true, force: true })
  }
}

/** Mounts a size-limited tmpfs, unmounted at teardown; fails where that cannot be done (see noSmallFileSystem). */
export async function smallFileSystem(t: Teardown, dir: string, size: string): Promise<string> {
  const mount = join(dir, 'small')
  await mkdir(mount)
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount])
  t.teardown(() => run('umount', ['-l', mount]))
  return mount
}

/** Appends to a file until the file system refuses (bounded). */
export async function fill(path: string): Promise<void> {
  const block = Buffer.alloc(64 * 1024)
  for (let i = 0; i < 10_000; i++) {
    const full = await appendFile(path, block).then(() => false, (err: NodeJS.ErrnoException) => err.code === 'ENOSPC')
    if (full) return
  }
  throw new Error(`${path} never filled`)
}

/**
 * What `promise` resolves to, or 'timeout' once `ms` have passed: bounds the wait for an
 * event that a bug would keep from ever coming, so the test fails instead of hanging.
 */
export async function orTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, ms, 'timeout')))
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

/** What an event is tested with: its arguments. */
type EventTest = (...args: any[]) => boolean

export interface WaitOptions {
  /** Waits until this holds: checked at once, then after each event. */
  until?: () => boolean
  /** Or for the first event whose arguments pass this (with neither, the next event). */
  match?: EventTest
  /** Events of the same emitter that end the wait with an error, each when its test passes ('close': () => true). */
  failOn?: Record<string, EventTest>
  /** The wait fails after this long, */
  ms: number
  /** or after this many events that did not end it. */
  max?: number
  /** What is awaited, for the error. */
  what?: string
}

/**
 * Waits for `event` on `emitter` as `options` say, and resolves with the arguments of the
 * event that ended the wait (none when `until` held at once). Bounded in time and in events,
 * and failing on the events that mean it can never come, so a bug fails the test with a
 * reason instead of leaving it to hang until the file's timeout.
 */
export function waitFor(emitter: NodeJS.EventEmitter<any>, event: string, options: WaitOptions): Promise<unknown[]> {
  const { until, match = () => until === undefined, failOn = {}, ms, max = 10_000, what = `'${event}'` } = options
  if (until?.() === true) return Promise.resolve([])
  return new Promise((resolve, reject) => {
    let seen = 0
    const listeners: [string, (...args: any[]) => void][] = [[event, (...args) => {
      if (match(...args) || until?.() === true) return finish(undefined, args)
      if (++seen >= max) finish(new Error(`${what} did not come in ${seen} '${event}' events`))
    }]]
    for (const [name, test] of Object.entries(failOn)) {
      listeners.push([name, (...args) => test(...args) && finish(new Error(`'${name}' (${inspect(args, { breakLength: Infinity })}) while waiting for ${what}`))])
    }
    const timer = setTimeout(() => finish(new Error(`${what} did not come within ${ms} ms`)), ms)
    function finish(err: Error | undefined, args: unknown[] = []): void {
      clearTimeout(timer)
      for (const [name, listener] of listeners) emitter.off(name, listener)
      if (err === undefined) resolve(args)
      else reject(err)
    }
    for (const [name, listener] of listeners) emitter.on(name, listener)
  })
}
