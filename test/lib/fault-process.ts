import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChildNode } from '@shoal/testkit'
import type { Cleanup } from '@shoal/testkit'

/** The compiled helpers folder (dist/lib), where the child-process entry points live. */
const LIB = dirname(fileURLToPath(import.meta.url))

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100

/**
 * Starts one of the fault helpers' entry points (`fault-*-main.js`) as a child node process,
 * with its options as one JSON argument; it is killed at teardown.
 */
export function startHelper(t: Cleanup, entry: string, options: unknown, env: Record<string, string> = {}): ChildNode {
  const child = new ChildNode(join(LIB, entry), [JSON.stringify(options)], env)
  t.teardown(() => child.kill())
  return child
}

/** The first JSON line of the child whose `type` is `type` (a report it prints when done). */
export function reportOf<T>(child: ChildNode, type: string, timeoutMs: number): Promise<T> {
  return child.waitForLine((line) => {
    if (!line.startsWith('{')) return undefined
    try {
      const entry = JSON.parse(line) as { type?: string }
      return entry.type === type ? (entry as T) : undefined
    } catch {
      return undefined
    }
  }, timeoutMs, `${type} report`)
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)
  if (kb === null) throw new Error(`no VmRSS for process ${pid}`)
  return Number(kb[1]) * 1024
}

/** CPU seconds (user + system) a process has used so far. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

export interface ResourceSample {
  /** Milliseconds since the sampler started. */
  atMs: number
  rss: number
  /** Share of one core used since the previous sample (1 = a whole core). */
  cpu: number
}

/**
 * Samples a process's RSS and CPU at a fixed interval, for figures that are only
 * observable from outside (memory and CPU of another process). Stops by itself when the
 * process is gone; call `stop()` before reading the results.
 */
export class ResourceSampler {
  readonly samples: ResourceSample[] = []
  private readonly started = performance.now()
  private readonly timer: NodeJS.Timeout
  private lastCpu: number | undefined
  private lastAt = this.started
  private busy = false

  constructor(private readonly pid: number, intervalMs = 250) {
    this.timer = setInterval(() => void this.sample(), intervalMs)
  }

  get peakRss(): number {
    return Math.max(0, ...this.samples.map((s) => s.rss))
  }

  get peakCpu(): number {
    return Math.max(0, ...this.samples.map((s) => s.cpu))
  }

  /** Mean CPU share over the samples taken from `fromMs` on. */
  meanCpu(fromMs = 0): number {
    const window = this.samples.filter((s) => s.atMs >= fromMs)
    return window.length === 0 ? 0 : window.reduce((sum, s) => sum + s.cpu, 0) / window.length
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async sample(): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      const [rss, cpuSeconds] = await Promise.all([rssOf(this.pid), cpuSecondsOf(this.pid)])
      const now = performance.now()
      if (this.lastCpu !== undefined) {
        this.samples.push({ atMs: now - this.started, rss, cpu: (cpuSeconds - this.lastCpu) / ((now - this.lastAt) / 1000) })
      }
      this.lastCpu = cpuSeconds
      this.lastAt = now
    } catch {
      this.stop()
    } finally {
      this.busy = false
    }
  }
}

export const MiB = 1024 * 1024

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`
}
