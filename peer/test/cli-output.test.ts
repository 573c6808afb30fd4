import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { ControlClient } from '../src/index.js'
import { writeDaemonFile } from '../src/control/daemon-file.js'
import { orTimeout, tempDir } from './helpers.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))
/** Modules a command under test may be started with (`--import`). */
const FAST_CLOCK = new URL('./fast-clock.js', import.meta.url).href

/** A running `shoal` command: its output so far and how it ended. */
function start(args: string[], o: { env?: Record<string, string>; imports?: string[] } = {}) {
  const child = spawn(process.execPath, [...(o.imports ?? []).flatMap((m) => ['--import', m]), CLI, ...args], {
    env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  const out = { stdout: '', stderr: '' }
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()))
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, ...out }))
  return { child, out, exited }
}

/** Runs a command to its end, killed (and so failing) after 30 s. */
async function shoal(args: string[], o: { env?: Record<string, string>; imports?: string[] } = {}) {
  const run = start(args, o)
  const ended = await orTimeout(run.exited, 30_000)
  if (ended === 'timeout') {
    run.child.kill('SIGKILL')
    throw new Error(`shoal ${args.join(' ')} did not end in 30 s`)
  }
  return ended
}

/**
 * A control API on 127.0.0.1 answering as `handle` says, found through the daemon.json of a
 * fresh data folder: what a command does with answers a real daemon gives slowly or not at all.
 */
async function fakeDaemon(t: Test, handle: RequestListener): Promise<{ dataDir: string; url: string }> {
  const server = createServer(handle)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const dataDir = await tempDir(t)
  await writeDaemonFile(dataDir, { url, token: 'token', pid: process.pid, peerId: 'cd'.repeat(16), port: 1 })
  return { dataDir, url }
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

/** A port nothing listens on (it did a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('the control client says "no daemon" only when none listens, and the real cause otherwise', async (t) => {
  const gone = await tempDir(t)
  await writeDaemonFile(gone, { url: `http://127.0.0.1:${await closedPort()}`, token: 'token', pid: 1, peerId: 'cd'.repeat(16), port: 1 })
  await t.rejects((await ControlClient.connect(gone)).status(), { code: ErrorCode.NOT_FOUND, message: /^no daemon is running for .*; start one with: shoal daemon/ })

  const { dataDir, url } = await fakeDaemon(t, (req) => req.socket.destroy())
  const client = await ControlClient.connect(dataDir)
  await t.rejects(client.status(), { code: ErrorCode.UNREACHABLE, message: `lost the daemon at ${url}: socket hang up (ECONNRESET)` })

  const garbled = await fakeDaemon(t, (_req, res) => res.writeHead(503).end('<html>busy</html>'))
  await t.rejects((await ControlClient.connect(garbled.dataDir)).status(), { code: ErrorCode.INTERNAL, message: 'daemon answered 503' })
})

t.test('a share that hashes for longer than fetch waits for headers (300 s) still gets its answer', async (t) => {
  const answered = { id: 'ef'.repeat(32), link: `shoal:${'ef'.repeat(32)}`, name: 'big', size: 1, chunks: 1, warnings: [] }
  const { dataDir } = await fakeDaemon(t, (req: IncomingMessage, res) => {
    // 2 s here are 2000 s to the command, whose clock runs a thousand times faster.
    if (req.url === '/v1/share') setTimeout(() => json(res, answered), 2000)
    else res.writeHead(404).end()
  })
  const run = await shoal(['share', dataDir, '--data-dir', dataDir], { imports: [FAST_CLOCK] })
  t.equal(run.stderr, '')
  t.equal(run.code, 0)
  t.equal(run.stdout, `${answered.link}\n`)
})
