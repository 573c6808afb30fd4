import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { TapTest } from './tap-test.js'

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url))

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stderr: string
}

export interface Started {
  child: ChildProcess
  url: string
  statsUrl: string
  exited: Promise<Exit>
}

/** Runs the compiled shoal-tracker CLI; resolves when it exits. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<Exit> & { child: ChildProcess } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }))
  })
  return Object.assign(exited, { child })
}

/** Starts the CLI (killed at teardown) and waits, at most 10 s, for the two URL lines it prints. */
export async function startCli(t: TapTest, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const exited = runCli(args, env)
  const { child } = exited
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const urls = new Promise<[string, string]>((resolve, reject) => {
    const seen: Record<string, string> = {}
    lines.on('line', (line) => {
      const [label, value] = line.split(' ')
      seen[label] = value
      if (seen.tracker && seen.stats) resolve([seen.tracker, seen.stats])
    })
    void exited.then((e) => reject(new Error(`exited early (${e.code}): ${e.stderr}`)))
    setTimeout(() => reject(new Error('no URL printed within 10 s')), 10_000).unref()
  })
  const [url, statsUrl] = await urls
  return { child, url, statsUrl, exited }
}
