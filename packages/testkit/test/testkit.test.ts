import { join } from 'node:path'
import t from 'tap'
import { CleanupStack, randomFile, sha256File, startPeer, startTracker, tempDir, waitUntil } from '../src/index.js'

t.test('a tracker and two peers: share, get, stats, restart', async (t) => {
  const tracker = await startTracker(t)
  t.match(tracker.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
  const a = await startPeer(t, { trackers: [tracker.url], tuning: { reconnectInitialMs: 50, reconnectMaxMs: 200 } })
  const b = await startPeer(t, { trackers: [tracker.url], uploadLimit: '8M' })
  t.match(a.peerId, /^[0-9a-f]{32}$/)
  const dir = await tempDir(t)
  const hash = await randomFile(join(dir, 'x.bin'), 3 * 1024 * 1024 + 5)
  t.equal(await sha256File(join(dir, 'x.bin')), hash)
  const shared = await a.api.share(join(dir, 'x.bin'))
  const got = await b.cli(['get', shared.link, '-o', join(dir, 'copy.bin'), '--json'])
  t.equal(got.code, 0, got.stderr)
  t.equal(await sha256File(join(dir, 'copy.bin')), hash)
  t.ok(a.logs().some((e) => e.msg === 'daemon ready'))
  await waitUntil(async () => (await tracker.stats()).peersOnline === 2, { what: 'two peers online' })
  await tracker.restart()
  await waitUntil(async () => (await tracker.stats()).peersOnline === 2, { what: 'peers back', timeoutMs: 15_000 })
  await b.restart()
  t.equal((await b.api.content(shared.id)).state, 'seeding')
})

t.test('waits are bounded, cleanups run newest first', async (t) => {
  await t.rejects(waitUntil(() => false, { timeoutMs: 30, intervalMs: 5, what: 'nothing' }), { message: /timed out after 30 ms waiting for nothing/ })
  t.equal(await waitUntil(() => 7), 7)
  const order: number[] = []
  const stack = new CleanupStack()
  stack.teardown(() => order.push(1))
  stack.teardown(() => {
    throw new Error('ignored')
  })
  stack.teardown(() => order.push(3))
  await stack.run()
  t.same(order, [3, 1])
})

t.test('a process that dies before it is ready is reported with its output', async (t) => {
  const tracker = await startTracker(t)
  await t.rejects(startTracker(t, { port: tracker.port }), { message: /tracker start: process exited .*in use/s })
})
