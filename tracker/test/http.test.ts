import t from 'tap'
import { Bitfield, toHex } from '@shoal/protocol'
import { createTestTracker } from '../src/testing.js'
import { TestClient, eventually, randomContent } from './lib/client.js'
import { pick, randomBitfield, seeded } from './lib/random.js'

async function json(url: string): Promise<any> {
  const res = await fetch(url)
  return res.json()
}

/** Parses the Prometheus text exposition: every sample line `name{labels} value`, checked against the format. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const typed = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') typed.add(meta[2])
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$/.exec(line)
    if (!sample) throw new Error(`not an exposition line: ${line}`)
    const value = Number(sample[3])
    if (Number.isNaN(value) && !/^nan$/i.test(sample[3])) throw new Error(`bad value in: ${line}`)
    samples.set(sample[1] + (sample[2] ?? ''), value)
  }
  if (typed.size === 0) throw new Error('no TYPE lines')
  return samples
}

t.test('/stats and per-content stats equal the index', async (t) => {
  const tracker = await createTestTracker(t, { replicationTarget: 2 })
  const rand = seeded(3)
  const contents = [randomContent(), randomContent(), randomContent()]
  const counts = [10, 33, 1]
  const clients = await Promise.all(Array.from({ length: 12 }, () => TestClient.connect(tracker.url)))
  t.teardown(() => clients.forEach((c) => c.ws.terminate()))
  for (const c of clients) {
    const mine = contents.map((content, i) => ({ content, chunkCount: counts[i], bitfield: randomBitfield(rand, counts[i], pick(rand, [0, 0.5, 1])) })).filter(() => rand() < 0.7)
    await c.register(mine)
    if (mine.length > 0) await c.request({ type: 'find', content: mine[0].content, wanted: Bitfield.full(mine[0].chunkCount).bytes, max: 1 })
  }
  const stats = await json(`${tracker.httpUrl}/stats`)
  t.match(stats, { ...tracker.index.stats(), connections: 12, manifests: 0 })
  t.equal(stats.totals.register, 12)
  for (const content of contents) {
    const key = toHex(content)
    const expected = tracker.index.contentStats(key)
    if (expected === undefined) continue
    t.same(await json(`${tracker.httpUrl}/stats/contents/${key}`), expected)
    const availability = tracker.index.availability(key) as number[]
    t.equal(expected.availability.min, Math.min(...availability))
    t.equal(expected.underReplicatedChunks, availability.filter((a) => a < 2).length)
  }
  t.equal((await fetch(`${tracker.httpUrl}/stats/contents/${'ab'.repeat(32)}`)).status, 404)
  t.equal((await fetch(`${tracker.httpUrl}/stats/contents/xyz`)).status, 400)
  t.equal((await fetch(`${tracker.httpUrl}/nothing-here`)).status, 404)
})

t.test('/metrics is a parseable exposition with the same figures', async (t) => {
  const tracker = await createTestTracker(t)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register([{ content: randomContent(), chunkCount: 5, bitfield: Bitfield.full(5).bytes }])
  const res = await fetch(`${tracker.httpUrl}/metrics`)
  t.match(res.headers.get('content-type'), /^text\/plain/)
  const samples = parseExposition(await res.text())
  t.equal(samples.get('shoal_tracker_peers_online'), 1)
  t.equal(samples.get('shoal_tracker_chunk_replicas'), 5)
  t.equal(samples.get('shoal_tracker_connections'), 1)
  t.equal(samples.get('shoal_tracker_messages_total{type="register"}'), 1)
  t.equal(samples.get('shoal_tracker_connections_total'), 1)
  t.ok(samples.has('shoal_tracker_process_resident_memory_bytes'), 'process metrics too')
  t.notOk([...samples.keys()].some((name) => /^shoal_tracker_nodejs_active_\w+_total/.test(name)), 'no gauge named *_total')
})

t.test('message rate and history samples', async (t) => {
  const tracker = await createTestTracker(t, { statsTickMs: 5 })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  for (let i = 0; i < 50; i++) c.send({ type: 'heartbeat', load: 0 })
  t.ok(await eventually(() => tracker.stats().messagesPerSecond > 0), 'a rate shows')
  t.ok(await eventually(() => tracker.stats().history.length >= 2, 200, 20), 'history samples accumulate (one per 60 ticks)')
  const [sample] = tracker.stats().history
  t.match(sample, { peersOnline: 1, connections: 1, contents: 0, time: Number, messagesPerSecond: Number })
})

t.test('the dashboard and health check', async (t) => {
  const tracker = await createTestTracker(t)
  const page = await fetch(`${tracker.httpUrl}/`)
  t.match(page.headers.get('content-type'), /text\/html/)
  const html = await page.text()
  t.match(html, /<title>Shoal tracker<\/title>/)
  t.match(html, /fetch\('stats'/, 'it polls /stats')
  t.notMatch(html, /(src|href)=["']?(https?:)?\/\//, 'no external assets')
  t.same(await json(`${tracker.httpUrl}/healthz`), { status: 'ok' })
})
