import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import t from 'tap'
import { formatLink, fromHex } from '@shoal/protocol'
import { sha256File, startPeer, startTracker } from '@shoal/testkit'
import { FAST, isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('a tracker without the manifest: the downloader fetches it from a peer the link names, verifies it and downloads', async (t) => {
  const { dir, seeder, hash, shared } = await startSwarm(t, { size: 3 * 1024 * 1024 })
  // Another tracker, which has never heard of the content: the seeder is not registered there.
  const other = await startTracker(t)
  const b = await startPeer(t, { trackers: [other.url], tuning: FAST })
  const content = fromHex(shared.id, 32)!
  const viaPeer = { host: '127.0.0.1', port: seeder.port }

  const refused = await b.cli(['get', formatLink({ content, trackers: [other.url] }), '-o', join(dir, 'never.bin'), '--json'])
  t.not(refused.code, 0, 'the tracker alone has no manifest to give')
  t.match(refused.stderr, /does not know this content/)

  const unknown = await b.cli(['get', formatLink({ content: randomBytes(32), trackers: [other.url], peers: [viaPeer] }), '-o', join(dir, 'x.bin'), '--json'])
  t.not(unknown.code, 0, 'a peer without the content has none either')
  t.match(unknown.stderr, /is not held here/)

  await startGet(b, formatLink({ content, trackers: [other.url], peers: [viaPeer] }), join(dir, 'b.bin'))
  const done = await waitContent(b, shared.id, isDone, 'B complete')
  t.equal(await sha256File(join(dir, 'b.bin')), hash, 'the file is right')
  t.equal(done.sources.find((s) => s.peerId === seeder.peerId)?.chunks, shared.chunks, 'every chunk came from the peer the link names')
  t.ok(b.logs().some((e) => e.msg === 'download started' && e.content === shared.id), 'the download started from the peer’s manifest')
})

t.test('a link that names peers and no tracker works on a daemon with no tracker of its own', async (t) => {
  const { dir, seeder, hash, shared } = await startSwarm(t, { size: 1024 * 1024 })
  const b = await startPeer(t, { tuning: FAST })
  await startGet(b, formatLink({ content: fromHex(shared.id, 32)!, trackers: [], peers: [{ host: '127.0.0.1', port: seeder.port }] }), join(dir, 'b.bin'))
  await waitContent(b, shared.id, isDone, 'B complete from the peer alone')
  t.equal(await sha256File(join(dir, 'b.bin')), hash, 'the file is right')
})
