import t from 'tap'
import { trackerCodec, wsHeaderBytes } from '@shoal/protocol'
import type { FindResult } from '../src/chunk-index.js'
import { encodeSourcesFrame } from '../src/sources-frame.js'
import { pick, randomBitfield, seeded } from './lib/random.js'

/** RFC 6455 §5.2: final binary frame, unmasked, 7-bit, 16-bit or 64-bit length. */
function webSocketFrame(payload: Uint8Array): Buffer {
  const n = payload.length
  const head = n < 126 ? [0x82, n] : n < 0x10000 ? [0x82, 126, n >> 8, n & 0xff] : [0x82, 127, 0, 0, 0, 0, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]
  return Buffer.concat([Buffer.from(head), payload])
}

t.test('the direct encoder writes exactly what the codec writes', (t) => {
  const rand = seeded(11)
  const hosts = ['127.0.0.1', '::1', '2001:db8:85a3:1234:5678:8a2e:370:7334', 'h'.repeat(31), 'h'.repeat(32), 'x'.repeat(255), 'bücher.example']
  const frames: [Uint8Array, Uint8Array][] = []
  for (let round = 0; round < 300; round++) {
    const chunkCount = pick(rand, [0, 1, 9, 100, 2100, 5000, 262_144])
    // The largest bitfields (32 KiB) with few peers, to keep the frames small.
    const peerCounts = chunkCount > 10_000 ? [0, 1, 2] : [0, 1, 15, 16, 40]
    const peers = Array.from({ length: pick(rand, peerCounts) }, () => ({
      peerId: randomBitfield(rand, 128, 0.5),
      host: pick(rand, hosts),
      port: pick(rand, [0, 127, 128, 255, 256, 65535]),
      load: pick(rand, [0, 1, 0.5, 0.123456789, 1e-9]),
      chunks: randomBitfield(rand, rand() < 0.5 ? chunkCount : 0, rand()),
    }))
    const rarest = Array.from({ length: pick(rand, [0, 3, 15, 16, 64]) }, () => Math.floor(rand() * 262_144))
    const result: FindResult = { peers, rarest }
    const id = pick(rand, [0, 1, 127, 128, 255, 256, 65535, 65536, 0xffff_ffff])
    const content = randomBitfield(rand, 256, 0.5)
    const expected = trackerCodec.encode({ type: 'sources', id, content, peers, rarest })
    frames.push([encodeSourcesFrame(id, content, result), expected])
  }
  // Checked after all were encoded, so a later frame overwriting an earlier one shows too.
  let same = 0
  for (const [actual, expected] of frames) if (Buffer.compare(Buffer.from(actual), Buffer.from(webSocketFrame(expected))) === 0) same++
  t.equal(same, frames.length, 'every frame is byte-identical')
  t.match(trackerCodec.decode(frames[0][0].subarray(wsHeaderBytes(frames[0][1].length))), { type: 'sources' })
  t.end()
})

t.test('answers before and after a huge one (whose scratch is let go) are encoded alike', (t) => {
  const rand = seeded(12)
  const answer = (peerCount: number, chunkCount: number): FindResult => ({
    peers: Array.from({ length: peerCount }, (_, i) => ({ peerId: randomBitfield(rand, 128, 0.5), host: '127.0.0.1', port: 7000 + i, load: 0.25, chunks: randomBitfield(rand, chunkCount, 0.5) })),
    rarest: [1, 2, 3],
  })
  const content = randomBitfield(rand, 256, 0.5)
  for (const [id, result] of [answer(3, 4096), answer(40, 262_144), answer(3, 4096), answer(40, 262_144), answer(1, 9)].entries()) {
    const expected = webSocketFrame(trackerCodec.encode({ type: 'sources', id, content, ...result }))
    t.ok(Buffer.from(encodeSourcesFrame(id, content, result)).equals(expected), `answer ${id} (${expected.length} bytes)`)
  }
  t.end()
})
