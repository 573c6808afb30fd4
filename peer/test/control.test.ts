import { randomBytes } from 'node:crypto'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { ControlClient, startDaemon } from '../src/index.js'
import { readDaemonFile } from '../src/control/daemon-file.js'
import { fakeTracker, swarmAnswers } from './fake-tracker.js'
import { tempDir } from './helpers.js'

t.test('control API: token, routes, errors, daemon.json', async (t) => {
  const tracker = await fakeTracker(t, { answer: swarmAnswers().answer })
  const dir = await tempDir(t)
  const dataDir = join(dir, 'data')
  await t.rejects(ControlClient.connect(dataDir), { code: ErrorCode.NOT_FOUND, message: /no daemon is running .* shoal daemon/ })
  const daemon = await startDaemon({ dataDir, host: '127.0.0.1', port: 0, trackers: [tracker.url] })
  t.teardown(() => daemon.close())
  const info = (await readDaemonFile(dataDir))!
  t.equal(info.url, daemon.controlUrl)
  t.equal(info.port, daemon.peer.port)
  t.equal((await stat(join(dataDir, 'daemon.json'))).mode & 0o777, 0o600, 'daemon.json is private')

  const client = await ControlClient.connect(dataDir)
  t.equal((await client.status()).peerId, daemon.peer.peerId)
  const path = join(dir, 'f.bin')
  await writeFile(path, randomBytes(40_000))
  const shared = await client.share(path, { chunkSize: 16 * 1024 })
  t.equal(shared.chunks, 3)
  t.equal((await client.content(shared.id.slice(0, 8))).state, 'seeding')
  t.equal((await client.pause(shared.id)).state, 'paused')
  t.equal((await client.resume(shared.id)).state, 'seeding')
  await t.rejects(client.get('shoal:nope'), { code: ErrorCode.BAD_LINK })
  await t.rejects(client.content('abcdef'), { code: ErrorCode.NOT_FOUND })
  t.equal((await client.pause(shared.id.slice(0, 8).toUpperCase())).state, 'paused', 'an id in capitals is the same id')
  t.equal((await client.resume(shared.id.slice(0, 8).toUpperCase())).state, 'seeding')
  await t.rejects(client.remove('foo bar'), { code: ErrorCode.INVALID_ARGUMENT, message: 'id: foo bar is not a content id nor the start of one (hex digits)' })
  await t.rejects(client.content('ABCDEF'), { code: ErrorCode.NOT_FOUND, message: 'no content ABCDEF' })
  await client.remove(shared.id)
  t.same((await client.status()).contents, [])

  const raw = (path: string, init: RequestInit = {}) => fetch(`${info.url}${path}`, init)
  const wrong = await raw('/v1/status', { headers: { authorization: 'Bearer nope' } })
  t.equal(wrong.status, 401)
  t.match(await wrong.json(), { error: { code: ErrorCode.AUTH } })
  const auth = { authorization: `Bearer ${info.token}` }
  t.equal((await raw('/v1/nothing', { headers: auth })).status, 404)
  const malformed = await raw('/v1/contents/%zz', { headers: auth })
  t.equal(malformed.status, 400)
  t.match(await malformed.json(), { error: { code: ErrorCode.BAD_MESSAGE } })
  const bad = await raw('/v1/share', { method: 'POST', headers: auth, body: '[1,2' })
  t.equal(bad.status, 400)
  t.match(await bad.json(), { error: { code: ErrorCode.BAD_MESSAGE } })
  t.equal((await raw('/v1/share', { method: 'POST', headers: auth, body: '{"path": 5}' })).status, 400)
  t.equal((await raw('/v1/share', { method: 'POST', headers: auth, body: JSON.stringify({ path, trackers: 'x' }) })).status, 400)
  t.equal((await raw('/v1/share', { method: 'POST', headers: auth, body: JSON.stringify({ path, chunkSize: 1.5 }) })).status, 400)
  const huge = await raw('/v1/share', { method: 'POST', headers: auth, body: JSON.stringify({ path: 'x'.repeat(70_000) }) })
  t.equal(huge.status, 413)

  await daemon.close()
  t.equal(await readDaemonFile(dataDir), undefined, 'daemon.json is removed on shutdown')
  await t.rejects(client.status(), { message: /no daemon is running/ }, 'a stale client says the daemon is gone')
})
