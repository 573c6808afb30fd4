import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ControlClient } from '@shoal/peer'
import { ChildNode } from './child.js'
import type { Cleanup } from './cleanup.js'
import { tempDir } from './files.js'

export interface TestPeerOptions {
  /** Default trackers (`--tracker`). */
  trackers?: string[]
  /** Default: a fresh temp folder. */
  dataDir?: string
  /** Default: a free port. */
  port?: number
  /** RATE strings or bytes per second. */
  uploadLimit?: string | number
  downloadLimit?: string | number
  maxUploads?: number
  trackerToken?: string
  /**
   * Hidden tuning flags, camelCase without the leading dashes, e.g.
   * `{ reconnectInitialMs: 50, reconnectMaxMs: 500, findIntervalMs: 200 }`.
   */
  tuning?: Record<string, number>
  /** Default info; the testkit reads the 'daemon ready' info line, so nothing quieter. */
  logLevel?: 'debug' | 'info'
  /** Startup deadline. Default 15 s. */
  timeoutMs?: number
}

export const SHOAL_CLI = join(dirname(fileURLToPath(import.meta.resolve('@shoal/peer'))), 'cli.js')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs `shoal <args>` to completion. A command still running after 30 s, or ended by a
 * signal, rejects: a hang must not pass for a refusal's non-zero exit.
 */
export function runShoal(args: string[], options: { dataDir?: string; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const env = { ...process.env, ...options.env, ...(options.dataDir ? { SHOAL_DATA_DIR: options.dataDir } : {}) }
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [SHOAL_CLI, ...args], { env, cwd: options.cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr })
      if (typeof err.code === 'number') return resolve({ code: err.code, stdout, stderr })
      const why = err.killed ? 'did not finish within 30 s' : err.signal ? `was ended by ${err.signal}` : `could not run (${err.message})`
      reject(new Error(`shoal ${args.join(' ')} ${why}; stderr: ${stderr.slice(-500)}`))
    })
  })
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** A `shoal daemon` child process on 127.0.0.1, with a control client. */
export class TestPeer {
  child!: ChildNode
  api!: ControlClient
  port: number
  peerId = ''

  constructor(readonly dataDir: string, private readonly options: TestPeerOptions) {
    this.port = options.port ?? 0
  }

  /** Starts (again, on the same port and data folder) and waits for "daemon ready". */
  async start(): Promise<void> {
    const o = this.options
    const args = ['daemon', '--data-dir', this.dataDir, '--host', '127.0.0.1', '--port', String(this.port), '--log-level', o.logLevel ?? 'info']
    for (const url of o.trackers ?? []) args.push('--tracker', url)
    if (o.uploadLimit !== undefined) args.push('--upload-limit', String(o.uploadLimit))
    if (o.downloadLimit !== undefined) args.push('--download-limit', String(o.downloadLimit))
    if (o.maxUploads !== undefined) args.push('--max-uploads', String(o.maxUploads))
    if (o.trackerToken !== undefined) args.push('--tracker-token', o.trackerToken)
    for (const [name, value] of Object.entries(o.tuning ?? {})) args.push(`--${kebab(name)}`, String(value))
    // As the `shoal` bin's first line does (it is run here through node, which skips that line).
    this.child = new ChildNode(SHOAL_CLI, args, { UV_USE_IO_URING: '0' })
    const ready = await this.child.waitForLine((line) => {
      const entry = parseJson(line)
      return entry?.msg === 'daemon ready' ? entry : undefined
    }, o.timeoutMs ?? 15_000, 'peer start')
    this.port = ready.port as number
    this.peerId = ready.peerId as string
    this.api = await ControlClient.connect(this.dataDir)
  }

  /** `shoal <args>` against this daemon. */
  cli(args: string[], cwd?: string): Promise<CliResult> {
    return runShoal(args, { dataDir: this.dataDir, cwd })
  }

  /** Structured log entries so far (the last 5,000 lines). */
  logs(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = []
    for (const line of this.child.lines) {
      const entry = parseJson(line)
      if (entry !== undefined) out.push(entry)
    }
    return out
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    return this.child.kill(signal)
  }

  async restart(): Promise<void> {
    await this.kill()
    await this.start()
  }
}

function parseJson(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** Starts a peer daemon for a test; it is killed and its temp data removed at teardown. */
export async function startPeer(t: Cleanup, options: TestPeerOptions = {}): Promise<TestPeer> {
  const peer = new TestPeer(options.dataDir ?? await tempDir(t, 'shoal-peer-'), options)
  t.teardown(() => peer.kill())
  await peer.start()
  return peer
}
