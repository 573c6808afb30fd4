import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { Script } from 'node:vm'
import t from 'tap'
import { pino } from 'pino'
import { Bitfield, contentIdOf, toHex } from '@shoal/protocol'
import { createMetrics } from '../src/metrics.js'
import { createTestTracker } from '../src/testing.js'
import { TestClient, eventually, randomContent } from './lib/client.js'
import { manifestBytes } from './lib/manifests.js'
import { pick, randomBitfield, seeded } from './lib/random.js'

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init)
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
    if (mine.length > 0) await c.request({ type: 'find', content: mine[0].content, wanted: Bitfield.full(mine[0].chunkCount).bytes, max: 1, chunks: true })
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

t.test('one scrape takes one snapshot of the figures; the next takes a fresh one', async (t) => {
  const tracker = await createTestTracker(t)
  let taken = 0
  const registry = createMetrics({ stats: () => { taken++; return tracker.stats() } })
  const first = parseExposition(await registry.metrics())
  t.equal(taken, 1, 'one snapshot for every figure')
  t.equal(first.get('shoal_tracker_peers_online'), 0)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(parseExposition(await registry.metrics()).get('shoal_tracker_peers_online'), 1, 'the next scrape sees the change')
  t.equal(taken, 2)
})

const NO_PROMTOOL = spawnSync('promtool', ['--version']).status === 0 ? false : 'promtool is not installed (Debian package prometheus)'

t.test('/metrics passes promtool check metrics', { skip: NO_PROMTOOL }, async (t) => {
  const tracker = await createTestTracker(t)
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register([{ content: randomContent(), chunkCount: 3, bitfield: Bitfield.full(3).bytes }])
  const check = spawnSync('promtool', ['check', 'metrics'], { input: await (await fetch(`${tracker.httpUrl}/metrics`)).text(), encoding: 'utf8', timeout: 10_000 })
  t.equal(check.status, 0, `promtool says: ${check.stdout}${check.stderr}`)
})

t.test('message rate and history samples', async (t) => {
  const tracker = await createTestTracker(t, { statsTickMs: 5 })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register()
  for (let i = 0; i < 50; i++) c.send({ type: 'heartbeat', load: 0 })
  t.ok(await eventually(() => tracker.stats().messagesPerSecond > 0), 'a rate shows')
  t.ok(await eventually(() => tracker.stats().history.length >= 2, 200, 20), 'history samples accumulate (one per 60 ticks)')
  t.ok(tracker.stats().recent.length >= 12, 'recent samples six times as often')
  const [sample] = tracker.stats().history
  t.match(sample, { peersOnline: 1, connections: 1, contents: 0, time: Number, messagesPerSecond: Number })
})

t.test('/stats lists the most-shared contents with their availability, named by their manifests', async (t) => {
  const tracker = await createTestTracker(t, { mostShared: 2, replicationTarget: 2 })
  const manifest = manifestBytes(3, 'holiday photos.tar')
  const named = contentIdOf(manifest)
  const [quiet, busy] = [randomContent(), randomContent()]
  const clients = await Promise.all(Array.from({ length: 4 }, () => TestClient.connect(tracker.url)))
  t.teardown(() => clients.forEach((c) => c.ws.terminate()))
  await clients[0].register([{ content: named, chunkCount: 3, bitfield: Bitfield.full(3).bytes }, { content: busy, chunkCount: 2, bitfield: Bitfield.full(2).bytes }])
  t.match(await clients[0].request({ type: 'publish', manifest }), { type: 'ok' })
  await clients[1].register([{ content: named, chunkCount: 3, bitfield: Bitfield.fromIndices(3, [0]).bytes }, { content: busy, chunkCount: 2, bitfield: new Uint8Array(1) }])
  await clients[2].register([{ content: busy, chunkCount: 2, bitfield: new Uint8Array(1) }, { content: quiet, chunkCount: 1, bitfield: new Uint8Array(1) }])
  const stats = await json(`${tracker.httpUrl}/stats`)
  t.same(stats.mostShared, [
    { content: toHex(busy), peers: 3, seeders: 1, chunkCount: 2, availability: { min: 1, mean: 1 }, underReplicatedChunks: 2 },
    { content: toHex(named), name: 'holiday photos.tar', peers: 2, seeders: 1, chunkCount: 3, availability: { min: 1, mean: 4 / 3 }, underReplicatedChunks: 2 },
  ], 'the top 2 by peers, the one with a manifest named')
  t.same(await tracker.mostShared(), stats.mostShared, 'named from the cache the second time')

})

t.test('with a token, the most-shared list is for token holders only', async (t) => {
  const tracker = await createTestTracker(t, { token: 'sesame' })
  const c = await TestClient.connect(tracker.url)
  t.teardown(() => c.ws.terminate())
  await c.register([{ content: randomContent(), chunkCount: 1, bitfield: new Uint8Array(1) }], { token: 'sesame' })
  const anonymous = await json(`${tracker.httpUrl}/stats`)
  t.match(anonymous, { peersOnline: 1, contents: 1 }, 'the figures stay public')
  t.notOk('mostShared' in anonymous, 'but not which contents')
  const wrong = await json(`${tracker.httpUrl}/stats`, { headers: { authorization: 'Bearer open' } })
  t.notOk('mostShared' in wrong, 'nor with a wrong token')
  const holder = await json(`${tracker.httpUrl}/stats`, { headers: { authorization: 'Bearer sesame' } })
  t.equal(holder.mostShared.length, 1, 'the token shows them')
  const lowerCase = await json(`${tracker.httpUrl}/stats`, { headers: { authorization: 'bearer sesame' } })
  t.equal(lowerCase.mostShared.length, 1, 'whatever the case of the scheme')
})

t.test('a content is named once its manifest is published; the name cache is bounded', async (t) => {
  const tracker = await createTestTracker(t, { mostShared: 1 })
  const peer = await TestClient.connect(tracker.url)
  t.teardown(() => peer.ws.terminate())
  // Six contents take turns at the top; the cache keeps four names, so the first ones go.
  const manifests = Array.from({ length: 6 }, (_, i) => manifestBytes(1, `content-${i}`))
  for (const [i, manifest] of manifests.entries()) {
    await peer.register([{ content: contentIdOf(manifest), chunkCount: 1, bitfield: new Uint8Array(1) }])
    t.same((await tracker.mostShared()).map((c) => c.name), [undefined], `content ${i}: no name without a manifest`)
    t.match(await peer.request({ type: 'publish', manifest }), { type: 'ok' })
    t.same((await tracker.mostShared()).map((c) => c.name), [`content-${i}`], `content ${i}: named once published`)
  }
  await peer.register([{ content: contentIdOf(manifests[0]), chunkCount: 1, bitfield: new Uint8Array(1) }])
  t.equal((await tracker.mostShared())[0].name, 'content-0', 'a name that left the cache is read again')
  await peer.register([])
  t.same(await tracker.mostShared(), [], 'nothing shared once every peer left')
})

t.test('the dashboard and health check', async (t) => {
  const tracker = await createTestTracker(t)
  const page = await fetch(`${tracker.httpUrl}/`)
  t.match(page.headers.get('content-type'), /text\/html/)
  const html = await page.text()
  t.match(html, /<title>Shoal tracker<\/title>/)
  t.match(html, /fetch\('stats'/, 'it polls /stats')
  t.notMatch(html, /(src|href)=["']?(https?:)?\/\//, 'no external assets')
  t.match(html, /<link rel="icon" href="data:,">/, 'no favicon request')
  const testids = [...html.matchAll(/data-testid="([a-z0-9-]+)"/g)].map((m) => m[1])
  const expected = ['status', 'range-10m', 'range-1h', 'connections', 'manifests', 'most-shared', 'token-form', 'token-input', 'token-submit', 'token-note', 'totals']
  for (const figure of ['peers-online', 'contents', 'chunk-replicas', 'messages-per-second']) expected.push(figure, `${figure}-chart`)
  t.same(testids.filter((id) => expected.includes(id)).sort(), expected.sort(), 'the figures a browser test reads are tagged')
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1])
  t.equal(scripts.length, 1)
  t.doesNotThrow(() => new Script(scripts[0]), 'the page script parses')
  t.match(scripts[0], /data-testid': 'most-shared-row'/, 'rows of the most-shared table are tagged')
  const csp = page.headers.get('content-security-policy') ?? ''
  t.match(csp, /default-src 'none'/)
  t.ok(csp.includes(`'sha256-${createHash('sha256').update(scripts[0]).digest('base64')}'`), 'the CSP allows exactly the page script')
  const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? ''
  t.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), 'and the page style')
  t.same(await json(`${tracker.httpUrl}/healthz`), { status: 'ok' })
})

t.test('a malformed request path is the client\'s error: 400, logged at debug, not as a failure', async (t) => {
  const logged: { level: number; msg: string }[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) })
  const tracker = await createTestTracker(t, { logger })
  const res = await fetch(`${tracker.httpUrl}/stats/contents/%E0%A4%A`)
  t.equal(res.status, 400)
  t.match(await res.json(), { code: 'ERR_INVALID_ARGUMENT' })
  t.same(logged.filter((l) => l.level >= 50), [], 'no error logged')
  t.ok(logged.some((l) => l.msg === 'bad http request'), 'a debug line instead')
})
