import { join } from 'node:path'
import t from 'tap'
import { fromHex } from '@shoal/protocol'
import { sha256File, waitUntil } from '@shoal/testkit'
import { LyingPeer } from '../lib/fault-liar.js'
import { statsOf } from '../lib/fault-tracker.js'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('a peer serving wrong bytes is detected, banned and reported; the file is still right', async (t) => {
  const { dir, peer, seeder, hash, shared, tracker } = await startSwarm(t, { size: 4 * 1024 * 1024, seederLimit: '2M' })
  const hostile = new LyingPeer('random')
  await hostile.start(tracker.url, fromHex(shared.id, 32)!)
  t.teardown(() => hostile.close())
  const b = await peer()
  await startGet(b, shared.link, join(dir, 'b.bin'))
  const done = await waitContent(b, shared.id, isDone, 'B complete')
  t.equal(await sha256File(join(dir, 'b.bin')), hash)
  t.ok(hostile.asked.length >= 2, `the hostile peer was asked for ${hostile.asked.length} chunks`)
  t.same(done.banned, [hostile.peerId], 'it is banned')
  t.equal(done.sources.find((s) => s.peerId === hostile.peerId)?.chunks, 0, 'none of its bytes were kept')
  t.equal(done.sources.find((s) => s.peerId === seeder.peerId)?.chunks, shared.chunks, 'every chunk came from the honest seeder')
  t.ok(b.logs().some((e) => e.msg === 'source sent bad data' && e.banned === true), 'the ban is logged')
  const reports = await waitUntil(async () => (await statsOf(tracker.httpUrl)).totals.report || undefined, { what: 'the report at the tracker' })
  t.equal(reports, 1, 'and it was reported to the tracker, once')
})

