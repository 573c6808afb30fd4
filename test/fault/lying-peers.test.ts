import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { Bitfield, fromHex, toHex } from '@shoal/protocol'
import { sha256File } from '@shoal/testkit'
import { LyingPeer } from '../lib/fault-liar.js'
import type { Lie } from '../lib/fault-liar.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'
import { statsOf } from '../lib/fault-tracker.js'
import { isDone, startGet, startSwarm, waitContent } from '../lib/swarm.js'

t.test('lying peers are caught by the hash checks, banned, reported, and no longer handed out; every file is right', async (t) => {
  const { dir, peer, seeder, source, hash, shared, tracker } = await startSwarm(t, { size: 4 * 1024 * 1024, chunkSize: '64K', seederLimit: '1M' })
  const content = fromHex(shared.id, 32)!
  const data = await readFile(source)
  const lies: Lie[] = ['random', 'other-chunk', 'zeros', 'short', 'long-bitfield']
  const liars = lies.map((lie) => new LyingPeer(lie, data))
  for (const liar of liars) {
    await liar.start(tracker.url, content)
    t.teardown(() => liar.close())
  }
  // Three downloaders: a peer reported by three distinct peers is not handed out any more.
  const downloaders = await Promise.all([1, 2, 3].map(() => peer()))
  await Promise.all(downloaders.map((d, i) => startGet(d, shared.link, join(dir, `d${i}.bin`))))
  const done = await Promise.all(downloaders.map((d) => waitContent(d, shared.id, isDone, 'download among liars', 90_000)))
  for (let i = 0; i < downloaders.length; i++) t.equal(await sha256File(join(dir, `d${i}.bin`)), hash, `downloader ${i} has the right file`)

  const dataLiars = liars.filter((l) => l.lie !== 'long-bitfield')
  for (const liar of dataLiars) {
    t.ok(liar.asked.length > 0, `the ${liar.lie} liar was asked for ${liar.asked.length} chunks`)
    const banning = done.filter((s) => s.banned.includes(liar.peerId)).length
    t.equal(banning, 3, `all three downloaders banned the ${liar.lie} liar`)
    done.forEach((s, i) => t.equal(s.sources.find((x) => x.peerId === liar.peerId)?.chunks ?? 0, 0, `none of its chunks were kept by downloader ${i}`))
  }
  const longBitfield = liars.find((l) => l.lie === 'long-bitfield')!
  t.ok(longBitfield.handshakes > 0, `downloaders came to the peer with an over-long bitfield (${longBitfield.handshakes} handshakes)`)
  t.equal(longBitfield.asked.length, 0, 'and never asked it for anything')

  const stats = await statsOf(tracker.httpUrl)
  t.ok(stats.totals.report >= 3 * dataLiars.length, `the downloaders reported them (${stats.totals.report} reports)`)
  const asker = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => asker.terminate())
  await asker.register([])
  const sources = await asker.request({ type: 'find', content, wanted: Bitfield.full(shared.chunks).bytes, max: 200, chunks: true })
  const handedOut = new Set(sources.type === 'sources' ? sources.peers.map((p) => toHex(p.peerId)) : [])
  for (const liar of dataLiars) {
    t.ok(liar.connected, `the ${liar.lie} liar is still connected to the tracker`)
    t.notOk(handedOut.has(liar.peerId), `but no longer handed out`)
  }
  t.ok(handedOut.has(seeder.peerId), 'the honest seeder still is')
  for (const d of downloaders) t.ok(handedOut.has(d.peerId), 'and so are the downloaders, now seeding')
})
