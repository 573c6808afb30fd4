import t from 'tap'
import { Bitfield } from '@shoal/protocol'
import { startTracker } from '@shoal/testkit'
import { findProgram, runProgram, skipUnless } from '../lib/ops-programs.js'
import { RawPeer } from '../lib/ops-raw-peer.js'

/** `name{labels} value` samples of a text exposition. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line)
    if (match !== null) out.set(match[1], Number(match[2]))
  }
  return out
}

t.test('/metrics passes promtool check metrics and shows the live figures', { skip: skipUnless({ promtool: 'prometheus' }) }, async (t) => {
  const tracker = await startTracker(t)
  const content = new Uint8Array(32).fill(3)
  const chunkCount = 10
  const half = Bitfield.fromIndices(chunkCount, [0, 1, 2, 3, 4])
  const peers = [
    await RawPeer.connect(t, tracker.url), await RawPeer.connect(t, tracker.url), await RawPeer.connect(t, tracker.url),
  ]
  await peers[0].register(6881, [{ content, chunkCount, bitfield: Bitfield.full(chunkCount).bytes }])
  await peers[1].register(6882, [{ content, chunkCount, bitfield: half.bytes }])
  await peers[2].register(6883, [{ content, chunkCount, bitfield: new Bitfield(chunkCount).bytes }])
  peers[1].tell({ type: 'have', content, chunks: [5, 6] })
  t.match(await peers[2].request({ type: 'find', content, wanted: Bitfield.full(chunkCount).bytes, max: 0, chunks: true }), { type: 'sources' }, 'a find is answered')
  t.match(await peers[2].sendInvalid(new Uint8Array([0xc1])), { type: 'error', id: 0 }, 'a bad frame is refused (and counted)')
  // Replies come in order, so the `have` before the find has been applied by now.
  await peers[1].request({ type: 'get-manifest', content })

  const res = await fetch(`${tracker.httpUrl}/metrics`)
  t.equal(res.status, 200, 'GET /metrics')
  t.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/, 'Prometheus text format')
  const text = await res.text()
  t.match(Object.fromEntries(samples(text)), {
    shoal_tracker_peers_online: 3,
    shoal_tracker_contents: 1,
    shoal_tracker_chunk_replicas: 10 + 7,
    shoal_tracker_connections: 3,
    'shoal_tracker_messages_total{type="register"}': 3,
    'shoal_tracker_messages_total{type="have"}': 1,
    'shoal_tracker_messages_total{type="find"}': 1,
    shoal_tracker_invalid_messages_total: 1,
  }, 'the figures are the live ones')

  const check = await runProgram(findProgram('promtool')!, ['check', 'metrics'], { input: text })
  t.same({ code: check.code, complaints: `${check.stdout}${check.stderr}`.trim() }, { code: 0, complaints: '' }, 'promtool check metrics finds nothing to complain about')
})
