import t from 'tap'
import type { Test } from 'tap'
import { Bitfield, countBits, fromHex, toHex } from '@shoal/protocol'
import { startTracker, waitUntil } from '@shoal/testkit'
import type { ChildNode } from '@shoal/testkit'
import type { ChurnOptions, ChurnReport } from '../lib/fault-churn-main.js'
import { craftManifest } from '../lib/fault-manifest.js'
import { mib, reportOf, ResourceSampler, rssOf, startHelper } from '../lib/fault-process.js'
import { RawTrackerClient } from '../lib/fault-tracker-client.js'
import { heapUsedOf, statsOf } from '../lib/fault-tracker.js'

const seed = Number(process.env.SHOAL_SOAK_SEED ?? 6)
const PEERS = 2000
const CHILDREN = 2
const SOAK_MS = 65_000

/**
 * The lowest RSS seen over a quiet window, sampled each second; stops early once it is at
 * or below `enough`. An idle process gives memory back only when V8 gets round to a
 * collection, which no event announces: without a load, that can take tens of seconds.
 */
async function quietRss(pid: number, windowMs: number, enough = 0): Promise<number> {
  let lowest = await rssOf(pid)
  await waitUntil(async () => {
    lowest = Math.min(lowest, await rssOf(pid))
    return lowest <= enough
  }, { timeoutMs: windowMs, intervalMs: 1000, what: 'RSS low enough' }).catch(() => undefined)
  return lowest
}

function churn(t: Test, url: string, contents: ChurnOptions['contents'], peers: number, durationMs: number, childSeed: number): ChildNode {
  return startHelper(t, 'fault-churn-main.js', { url, seed: childSeed, peers, durationMs, contents, meanActionMs: 1500 } satisfies ChurnOptions)
}

t.test(`${PEERS} simulated peers churn for ${SOAK_MS / 1000} s: the index holds exactly the connected ones and RSS returns to where it started`, async (t) => {
  // Every simulated peer connects from 127.0.0.1.
  const tracker = await startTracker(t, { maxConnectionsPerIp: 0 })
  const manifests = Array.from({ length: 40 }, (_, i) => craftManifest({ name: `s${i}.bin`, kind: 'file', files: [{ path: `s${i}.bin`, size: (16 + i * 5) * 16 * 1024 - i }], seed: `soak${i}` }))
  const contents = manifests.map((m) => ({ id: m.idHex, chunkCount: m.chunkCount }))
  const query = await RawTrackerClient.connect(tracker.url)
  await query.register([])
  for (const m of manifests) await query.request({ type: 'publish', manifest: m.bytes })
  query.terminate()

  // Warm-up: the same crowd for a short while, then all gone; the baseline is taken after it.
  const warm = churn(t, tracker.url, contents, PEERS, 12_000, seed + 100)
  await reportOf(warm, 'churn-report', 60_000)
  await warm.kill()
  await waitUntil(async () => (await tracker.stats()).connections === 0, { timeoutMs: 20_000, what: 'warm-up connections gone' })
  const baseline = await quietRss(tracker.child.pid, 20_000)
  const heapBefore = await heapUsedOf(tracker.httpUrl)

  const sampler = new ResourceSampler(tracker.child.pid, 500)
  const started = Date.now()
  const children = Array.from({ length: CHILDREN }, (_, i) => churn(t, tracker.url, contents, PEERS / CHILDREN, SOAK_MS, seed + i))
  const reports = await Promise.all(children.map((c) => reportOf<ChurnReport>(c, 'churn-report', SOAK_MS + 60_000)))
  const soakSeconds = (Date.now() - started) / 1000
  sampler.stop()
  const holdings: ChurnReport['holdings'] = Object.assign({}, ...reports.map((r) => r.holdings))
  const actions: Record<string, number> = {}
  for (const r of reports) for (const [k, v] of Object.entries(r.actions)) actions[k] = (actions[k] ?? 0) + v
  t.comment(`soak of ${soakSeconds.toFixed(0)} s: ${JSON.stringify(actions)}; ${Object.keys(holdings).length} peers connected at the end`)
  t.comment(`tracker RSS: ${mib(baseline)} after the warm-up, peak ${mib(sampler.peakRss)} under load; peak CPU ${(sampler.peakCpu * 100).toFixed(0)}%`)
  t.same(reports.flatMap((r) => r.wrong), [], 'every simulated peer got the answers the protocol promises')

  // The index against the model: every content's holders and exactly their chunks.
  const checker = await RawTrackerClient.connect(tracker.url)
  t.teardown(() => checker.terminate())
  await checker.register([])
  let mismatched = 0
  let replicas = 0
  let swarms = 0
  for (const c of contents) {
    const expected = new Map<string, string>()
    let members = 0
    for (const [peer, held] of Object.entries(holdings)) {
      if (held[c.id] === undefined) continue
      members++
      const bits = fromHex(held[c.id], Math.ceil(c.chunkCount / 8))!
      replicas += countBits(bits)
      if (countBits(bits) > 0) expected.set(peer, held[c.id])
    }
    if (members > 0) swarms++
    t.ok(expected.size <= 200, `content ${c.id.slice(0, 8)}: ${expected.size} holders fit one find`)
    const reply = await checker.request({ type: 'find', content: fromHex(c.id, 32)!, wanted: Bitfield.full(c.chunkCount).bytes, max: 200, chunks: true })
    const found = new Map(reply.type === 'sources' ? reply.peers.map((p) => [toHex(p.peerId), toHex(p.chunks)]) : [])
    if (JSON.stringify([...found].sort()) !== JSON.stringify([...expected].sort())) {
      mismatched++
      t.same(Object.fromEntries(found), Object.fromEntries(expected), `content ${c.id.slice(0, 8)}: find shows exactly the connected holders and their chunks`)
    }
  }
  t.equal(mismatched, 0, `the index matches the connected peers' state for all ${contents.length} contents`)
  const stats = await statsOf(tracker.httpUrl)
  t.equal(stats.peersOnline, Object.keys(holdings).length + 1, '/stats: peers online = the connected simulated peers (+ the checker)')
  t.equal(stats.contents, swarms, '/stats: contents with a peer online')
  t.equal(stats.chunkReplicas, replicas, '/stats: chunk replicas')

  // Everyone leaves; the tracker must give back what the crowd cost it.
  await Promise.all(children.map((c) => c.kill()))
  checker.terminate()
  await waitUntil(async () => {
    const s = await tracker.stats()
    return s.peersOnline === 0 && s.connections === 0 && s.contents === 0
  }, { timeoutMs: 20_000, what: 'every peer gone from the index' })
  const after = await quietRss(tracker.child.pid, 60_000, baseline * 1.2)
  const heapAfter = await heapUsedOf(tracker.httpUrl)
  t.comment(`tracker RSS ${mib(baseline)} after the warm-up (lowest in 20 s of quiet) → ${mib(after)} after the soak (lowest until within 20%, at most 60 s of quiet) (${(((after - baseline) / baseline) * 100).toFixed(1)}%); V8 heap used ${mib(heapBefore)} → ${mib(heapAfter)}`)
  t.ok(after <= baseline * 1.2, `RSS returned to within 20% of where it started (${mib(after)} vs ${mib(baseline)})`)
})
