import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Test } from 'tap'
import { CloseCode, ErrorCode } from '@shoal/protocol'
import { ControlClient, startDaemon } from '../src/index.js'
import { formatTrackerStats } from '../src/cli/stats-format.js'
import { parseSize } from '../src/cli/units.js'
import { writeDaemonFile } from '../src/control/daemon-file.js'
import { fakeTracker, swarmAnswers } from './fake-tracker.js'
import { orTimeout, tempDir } from './helpers.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))
/** Modules a command under test may be started with (`--import`). */
const FAST_CLOCK = new URL('./fast-clock.js', import.meta.url).href
const TTY_STDERR = new URL('./tty-stderr.js', import.meta.url).href
const LINK = `shoal:${'ab'.repeat(32)}`
/** Bytes a terminal acts on: ESC and CSI (C1). */
const CONTROLS = /[\u001b\u009b\u0007]/

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

/** Resolves once `text` holds a match for `pattern`, reading it again on every `data` of `stream`. */
function seen(stream: NodeJS.ReadableStream, read: () => string, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (!pattern.test(read())) return
      stream.off('data', check)
      resolve()
    }
    stream.on('data', check)
    check()
  })
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

t.test('a tracker\'s error text is printed escaped by status', async (t) => {
  const reason = 'go away\u001b[2J\u009b31m'
  const tracker = await fakeTracker(t, {
    answer: (msg, ws) => {
      if (msg.type === 'register') ws.close(CloseCode.AUTH_FAILED, reason)
      return undefined
    },
  })
  const dataDir = join(await tempDir(t), 'daemon')
  const daemon = await startDaemon({ dataDir, host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => daemon.close())
  // The daemon has no event for a tracker's state: its status is read until the refusal shows (bounded).
  const refused = orTimeout((async () => {
    while (daemon.peer.status().trackers[0]?.state !== 'stopped') await new Promise((resolve) => setTimeout(resolve, 20))
  })(), 10_000)
  t.not(await refused, 'timeout', 'the tracker refused the peer')
  const run = await shoal(['status', '--data-dir', dataDir])
  t.equal(run.code, 0, run.stderr)
  t.notMatch(run.stdout, CONTROLS, 'no raw control character')
  t.match(run.stdout, `tracker ${tracker.url}: stopped (go away\\u001b[2J\\u009b31m)\n`)
})

t.test('share warnings: escaped, and worded for a tracker that refused apart from one not reached', async (t) => {
  const refusal = 'manifest\u001b]0;owned\u0007 refused'
  const swarm = swarmAnswers()
  const tracker = await fakeTracker(t, {
    answer: (msg, ws) => (msg.type === 'publish' ? { type: 'error', id: msg.id, code: ErrorCode.LIMIT_EXCEEDED, message: refusal } : swarm.answer(msg, ws)),
  })
  const dir = await tempDir(t)
  const dataDir = join(dir, 'daemon')
  const daemon = await startDaemon({ dataDir, host: '127.0.0.1', port: 0, trackers: [] })
  t.teardown(() => daemon.close())
  const file = join(dir, 'f.bin')
  await writeFile(file, randomBytes(1000))

  const refused = await shoal(['share', file, '--tracker', tracker.url, '--data-dir', dataDir])
  t.equal(refused.code, 0, 'the content is shared all the same')
  t.notMatch(refused.stderr, CONTROLS, 'no raw control character')
  t.equal(refused.stderr, `warning: ${tracker.url} refused to publish the content (manifest\\u001b]0;owned\\u0007 refused); peers cannot find it through that tracker\n`)

  const nowhere = `ws://127.0.0.1:${await closedPort()}`
  const other = join(dir, 'g.bin')
  await writeFile(other, randomBytes(1000))
  const unreached = await shoal(['share', other, '--tracker', nowhere, '--data-dir', dataDir])
  t.equal(unreached.code, 0)
  t.match(unreached.stderr, new RegExp(`^warning: cannot reach tracker ${nowhere}: .*; it will be announced once the tracker is reachable\n$`))

})

t.test('shoal stats shows what a tracker sends of the wrong shape as "?" or leaves it out, escaped', async (t) => {
  const figures = { availability: { min: 1, mean: 2 }, peers: 3, seeders: 1, chunkCount: 4 }
  const text = formatTrackerStats('http://h/', {
    peersOnline: 1,
    totals: { 'evil\u001b[2mkey': 5, fine: 'many' },
    mostShared: [null, 7, 'x', [1], { ...figures, content: 12345, name: { not: 'text' } }, { content: 'ab\u009b31mcdefghijklmnop', name: 'n\u001bame', availability: 'high' }],
  })
  t.notMatch(text, CONTROLS, 'no raw control character')
  t.match(text, /\n {2}evil\\u001b\[2mkey {2}5\n {2}fine {14}\?\n/, 'totals: keys escaped, a count that is no number shows as "?"')
  t.match(text, /\n {2}\? +3 +1 +4 +min 1, mean 2 {2}\?\n/, 'a content id and a name that are not text show as "?"')
  t.match(text, /\n {2}ab\\u009b31mcdefgh {2}\? .* min \?, mean \? {2}n\\u001bame\n$/, 'text escaped after it is cut; no figures show as "?"')
  for (const mostShared of ['many', 5, { content: 'x' }, [null]]) {
    t.notMatch(formatTrackerStats('http://h/', { mostShared, totals: [1, 2] }), /most-shared|\n {2}0 /, `mostShared ${JSON.stringify(mostShared)}: no list`)
  }

  const server = createServer((_req, res) => json(res, { peersOnline: 2, totals: 'none', mostShared: [{ content: ['not', 'text'], peers: 1 }] }))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const run = await shoal(['stats', `http://127.0.0.1:${(server.address() as AddressInfo).port}`])
  t.equal(run.stderr, '', 'no TypeError')
  t.equal(run.code, 0)
  t.match(run.stdout, /most-shared contents\n {2}content .*\n {2}\? +1 +\? /)
})

t.test('shoal get: Ctrl-C while the manifest is fetched says the daemon goes on', async (t) => {
  for (const json of [false, true]) {
    let asked!: () => void
    const requested = new Promise<void>((resolve) => (asked = resolve))
    // The daemon never answers: it is still fetching the manifest.
    const { dataDir } = await fakeDaemon(t, (req) => req.url === '/v1/get' && asked())
    const run = start(['get', LINK, '--data-dir', dataDir, ...(json ? ['--json'] : [])], { imports: [TTY_STDERR] })
    t.teardown(() => run.child.kill('SIGKILL'))
    t.not(await orTimeout(requested, 20_000), 'timeout', 'the daemon was asked')
    if (!json) t.not(await orTimeout(seen(run.child.stderr, () => run.out.stderr, /fetching the manifest…\n/), 10_000), 'timeout', 'the wait is announced')
    run.child.kill('SIGINT')
    const ended = await orTimeout(run.exited, 10_000)
    t.not(ended, 'timeout', 'Ctrl-C ends the command')
    if (ended === 'timeout') continue
    t.same([ended.code, ended.signal], [130, null], `${json ? '--json: ' : ''}it exits by itself`)
    t.equal(ended.stderr, `${json ? '' : 'fetching the manifest…\n'}\nthe download goes on in the daemon; follow it with: shoal status\n`)
    t.equal(ended.stdout, '')
  }
})

t.test('a size or rate above 0 but under 1 byte is refused, not taken for 0 (no limit)', async (t) => {
  t.throws(() => parseSize('0.4'), { message: 'more than 0 but less than 1 byte: give at least 1' })
  t.throws(() => parseSize('0.0001K'), { message: /less than 1 byte/ })
  t.equal(parseSize('0'), 0)
  t.equal(parseSize('0.0'), 0)
  t.equal(parseSize('0.6'), 1)
  const run = await shoal(['daemon', '--upload-limit', '0.4', '--data-dir', await tempDir(t)])
  t.not(run.code, 0)
  t.match(run.stderr, /--upload-limit <rate>' argument '0\.4' is invalid\. more than 0 but less than 1 byte: give at least 1/)
})
