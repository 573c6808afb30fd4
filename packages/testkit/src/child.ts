import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { within } from './wait.js'

/** Lines kept, for error messages and for tests that look for a log line after the fact (a chatty run must not push it out). */
const KEEP_LINES = 5000

/** Children still running; killed if this process exits first, even on a crash. */
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

/**
 * A node child process whose output is read line by line (always drained, so it never
 * blocks on a full pipe), with waits for a line that match and an exit promise.
 */
export class ChildNode {
  readonly process: ChildProcess
  readonly lines: string[] = []
  readonly exited: Promise<number | null>
  private readonly listeners = new Set<(line: string) => void>()
  private exitCode: number | null | undefined

  constructor(script: string, args: string[], env: Record<string, string | undefined> = {}) {
    this.process = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.onLine(line))
    }
    live.add(this.process)
    this.exited = once(this.process, 'exit').then(([code]) => {
      live.delete(this.process)
      return (this.exitCode = code as number | null)
    })
  }

  get pid(): number {
    return this.process.pid!
  }

  get running(): boolean {
    return this.exitCode === undefined
  }

  /** Resolves with the first line (already seen or coming) that `match` accepts. */
  waitForLine<T>(match: (line: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
    for (const line of this.lines) {
      const hit = match(line)
      if (hit !== undefined) return Promise.resolve(hit)
    }
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        clearTimeout(timer)
        this.listeners.delete(listener)
      }
      const listener = (line: string): void => {
        const hit = match(line)
        if (hit === undefined) return
        stop()
        resolve(hit)
      }
      const timer = setTimeout(() => {
        stop()
        reject(new Error(`${what}: no such output within ${timeoutMs} ms; last lines:\n${this.lines.slice(-20).join('\n')}`))
      }, timeoutMs)
      this.listeners.add(listener)
      void this.exited.then((code) => {
        if (!this.listeners.has(listener)) return
        stop()
        reject(new Error(`${what}: process exited (${code}) first; last lines:\n${this.lines.slice(-20).join('\n')}`))
      })
    })
  }

  /**
   * Sends the signal and waits for the exit. A process still running `timeoutMs` later is
   * killed for good and the wait rejects: a shutdown that hangs fails the test that asked for it.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<number | null> {
    if (this.running) this.process.kill(signal)
    return within(this.exited, timeoutMs, () => {
      this.process.kill('SIGKILL')
      return new Error(`process ${this.pid} did not exit within ${timeoutMs} ms of ${signal}; last lines:\n${this.lines.slice(-20).join('\n')}`)
    })
  }

  private onLine(line: string): void {
    this.lines.push(line)
    if (this.lines.length > KEEP_LINES) this.lines.shift()
    for (const l of [...this.listeners]) l(line)
  }
}
