import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChildNode } from './child.js'
import type { Cleanup } from './cleanup.js'
import { tempDir } from './files.js'

export interface TestTrackerOptions {
  /** Default: a free port. */
  port?: number
  /** Default: a fresh temp folder. */
  dataDir?: string
  token?: string
  /** Seconds. */
  ttl?: number
  /** `--max-connections-per-ip`; 0 lets any number connect from 127.0.0.1. Default: the tracker's (256). */
  maxConnectionsPerIp?: number
  /** Startup deadline. Default 15 s. */
  timeoutMs?: number
}

const TRACKER_CLI = join(dirname(fileURLToPath(import.meta.resolve('@shoal/tracker'))), 'cli.js')

/** A `shoal-tracker` child process on 127.0.0.1. */
export class TestTracker {
  child!: ChildNode
  url = ''
  port = 0

  constructor(readonly dataDir: string, private readonly options: TestTrackerOptions) {
    this.port = options.port ?? 0
  }

  get httpUrl(): string {
    return this.url.replace(/^ws/, 'http')
  }

  get statsUrl(): string {
    return `${this.httpUrl}/stats`
  }

  /** Starts (again, on the same port and data folder) and waits for its URL line. */
  async start(): Promise<void> {
    const args = ['--host', '127.0.0.1', '--port', String(this.port), '--data-dir', this.dataDir, '--log-level', 'warn']
    if (this.options.token !== undefined) args.push('--token', this.options.token)
    if (this.options.ttl !== undefined) args.push('--ttl', String(this.options.ttl))
    if (this.options.maxConnectionsPerIp !== undefined) args.push('--max-connections-per-ip', String(this.options.maxConnectionsPerIp))
    this.child = new ChildNode(TRACKER_CLI, args)
    this.url = await this.child.waitForLine((l) => /^tracker (ws:\/\/\S+)$/.exec(l)?.[1], this.options.timeoutMs ?? 15_000, 'tracker start')
    this.port = Number(new URL(this.url).port)
  }

  /** GET /stats. */
  async stats(): Promise<{ peersOnline: number; contents: number; manifests: number; [key: string]: unknown }> {
    const res = await fetch(this.statsUrl, { signal: AbortSignal.timeout(5000) })
    if (!res.ok) throw new Error(`GET /stats: ${res.status}`)
    return (await res.json()) as { peersOnline: number; contents: number; manifests: number }
  }

  /** SIGKILL by default; resolves once the process is gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    return this.child.kill(signal)
  }

  async restart(): Promise<void> {
    await this.kill()
    await this.start()
  }
}

/** Starts a tracker for a test; it is killed and its temp data removed at teardown. */
export async function startTracker(t: Cleanup, options: TestTrackerOptions = {}): Promise<TestTracker> {
  const tracker = new TestTracker(options.dataDir ?? await tempDir(t, 'shoal-tracker-'), options)
  t.teardown(() => tracker.kill())
  await tracker.start()
  return tracker
}
