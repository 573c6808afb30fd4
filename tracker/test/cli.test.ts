import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { CloseCode } from '@shoal/protocol'
import { TRACKER_HEAP_FLAGS } from '../src/heap-settings.js'
import { TestClient } from './lib/client.js'
import { runCli as run, startCli as start } from './lib/cli-process.js'

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

t.test('the CLI applies the tracker heap settings at start and logs them at debug level', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tracker-cli-'))
  t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const { child, exited } = await start(t, ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'debug'])
  child.kill('SIGTERM')
  const { code, stderr } = await exited
  t.equal(code, 0)
  const lines = stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; v8Flags?: string[] })
  t.same(lines.find((line) => line.msg === 'heap settings applied')?.v8Flags, TRACKER_HEAP_FLAGS)
})
