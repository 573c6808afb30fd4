import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { CloseCode } from '@shoal/protocol'
import { TestClient } from './lib/client.js'
import type { TapTest } from './lib/tap-test.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

interface Started {
  child: ChildProcess
  url: string
  statsUrl: string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

function run(args: string[], env: Record<string, string> = {}): Started['exited'] & { child: ChildProcess } {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stderr }))
  })
  return Object.assign(exited, { child })
}

/** Starts the CLI and waits (bounded) for the two URL lines it prints. */
async function start(t: TapTest, args: string[], env: Record<string, string> = {}): Promise<Started> {
  const exited = run(args, env)
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

t.test('the CLI serves, then exits 0 within 5 s of SIGTERM, closing peers with going-away', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { child, url, statsUrl, exited } = await start(t, ['--host', '127.0.0.1', '--data-dir', dataDir, '--log-level', 'warn'], { SHOAL_TRACKER_PORT: '0', SHOAL_TRACKER_TTL: '30' })
  t.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/)
  t.equal(statsUrl, `${url.replace('ws:', 'http:')}/stats`)
  const peer = await TestClient.connect(url)
  t.match(await peer.register(), { type: 'registered', ttl: 30 }, 'the env var set the ttl')
  t.match(await (await fetch(statsUrl)).json(), { peersOnline: 1 })
  const signalled = performance.now()
  child.kill('SIGTERM')
  t.equal((await peer.closed).code, CloseCode.GOING_AWAY)
  const { code } = await exited
  t.equal(code, 0)
  t.ok(performance.now() - signalled < 5000, 'within 5 s')
})

t.test('CLI errors are one line and a non-zero exit', async (t) => {
  const badPort = await run(['--port', 'seventy'])
  t.equal(badPort.code, 1)
  t.match(badPort.stderr, /^error: option '--port <number>' argument 'seventy' is invalid\. must be an integer from 0 to 65535\n$/)
  const badProxy = await run(['--port', '0', '--trust-proxy', 'maybe'])
  t.equal(badProxy.code, 1)
  t.match(badProxy.stderr, /must be true or false/)

  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const first = await start(t, ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'])
  const port = new URL(first.url).port
  const inUse = await run(['--host', '127.0.0.1', '--port', port, '--data-dir', `${dataDir}-other`, '--log-level', 'silent'])
  t.equal(inUse.code, 1)
  t.equal(inUse.stderr, `shoal-tracker: port ${port} on 127.0.0.1 is already in use\n`)
  await rm(`${dataDir}-other`, { recursive: true, force: true })
  const locked = await run(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'silent'])
  t.equal(locked.code, 1)
  t.match(locked.stderr, /^shoal-tracker: cannot open data directory .*\n$/)
  first.child.kill('SIGINT')
  t.equal((await first.exited).code, 0, 'SIGINT exits cleanly too')
})
