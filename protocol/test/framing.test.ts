import t from 'tap'
import { ErrorCode, TooLargeError } from '../src/errors.js'
import { scanFrame } from '../src/frame-scan.js'
import { FRAME_HEADER_BYTES, FrameDecoder, frameHeader } from '../src/framing.js'
import { peerCodec } from '../src/messages.js'
import { peerSamples, plain, randomBytes, randomInt, seededRandom, specPack } from './helpers.js'

function stream(frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [frameHeader(f.length), f]))
}

/** Cuts `bytes` into reads of the given sizes (cycled). */
function split(bytes: Buffer, sizes: number[]): Buffer[] {
  const reads: Buffer[] = []
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length])
    reads.push(bytes.subarray(at, at + n))
    at += n
  }
  return reads
}

function feed(decoder: FrameDecoder, reads: Buffer[]): Buffer[] {
  return reads.flatMap((r) => decoder.push(r))
}

const hex = (frames: Uint8Array[]): string[] => frames.map((f) => Buffer.from(f).toString('hex'))

t.test('frames come out whole however the stream is cut', (t) => {
  const rand = seededRandom(21)
  for (let round = 0; round < 200; round++) {
    const frames = Array.from({ length: 1 + randomInt(rand, 12) }, () => randomBytes(rand, randomInt(rand, 3) === 0 ? 0 : randomInt(rand, 3000)))
    const bytes = stream(frames)
    const cuts = [[1], [2, 3], [bytes.length], [randomInt(rand, 50) + 1, randomInt(rand, 5000) + 1], Array.from({ length: 7 }, () => randomInt(rand, 700))]
    for (const sizes of cuts) {
      const decoder = new FrameDecoder(4096)
      const out = feed(decoder, split(bytes, sizes))
      if (JSON.stringify(hex(out)) !== JSON.stringify(hex(frames))) t.fail(`round ${round}, reads of ${sizes}`)
      t.equal(decoder.buffered, 0)
    }
  }
  t.end()
})

t.test('a header split over reads, and merged frames in one read', (t) => {
  const frames = [Uint8Array.of(1, 2, 3), Uint8Array.of(4), new Uint8Array(0), Uint8Array.of(5, 6)]
  const bytes = stream(frames)
  for (let cut = 1; cut < FRAME_HEADER_BYTES; cut++) {
    const decoder = new FrameDecoder(100)
    t.same(decoder.push(bytes.subarray(0, cut)), [], `first ${cut} header bytes give nothing`)
    t.equal(decoder.buffered, cut)
    t.same(hex(decoder.push(bytes.subarray(cut))), hex(frames), `header cut after ${cut} bytes`)
  }
  t.same(hex(new FrameDecoder(100).push(bytes)), hex(frames), 'all frames from one read')
  t.end()
})

t.test('a zero-length frame at the very end of a read', (t) => {
  const decoder = new FrameDecoder(100)
  t.same(hex(decoder.push(Buffer.of(0, 0, 0, 0))), [''])
  t.same(hex(decoder.push(Buffer.of(0, 0, 0, 1))), [])
  t.same(hex(decoder.push(Buffer.of(9, 0, 0, 0, 0))), ['09', ''])
  t.equal(decoder.buffered, 0)
  t.end()
})

t.test('a frame inside one read is a view, not a copy', (t) => {
  const read = stream([Uint8Array.of(1, 2, 3, 4)])
  const [frame] = new FrameDecoder(100).push(read)
  t.equal(frame.buffer, read.buffer)
  t.end()
})

t.test('the cap is enforced from the header, before the payload is buffered', (t) => {
  const decoder = new FrameDecoder(1000)
  t.same(hex(decoder.push(Buffer.concat([frameHeader(1000), Buffer.alloc(1000, 7)]))), ['07'.repeat(1000)], 'exactly the cap is fine')
  t.same(decoder.push(frameHeader(1001).subarray(0, 3)), [])
  const err = t.throws(() => decoder.push(frameHeader(1001).subarray(3)), { code: ErrorCode.TOO_LARGE })
  t.ok(err instanceof TooLargeError)
  t.ok(decoder.buffered < FRAME_HEADER_BYTES, 'nothing of the payload is waiting')
  t.throws(() => new FrameDecoder(1 << 20).push(Buffer.of(0xff, 0xff, 0xff, 0xff)), { code: ErrorCode.TOO_LARGE }, '4 GiB announced')
  t.end()
})

t.test('random streams only ever give frames or TooLargeError', (t) => {
  const rand = seededRandom(22)
  let tooLarge = 0
  let frames = 0
  for (let round = 0; round < 2000; round++) {
    const decoder = new FrameDecoder(64)
    try {
      // Mostly plausible headers (some over the cap) with payloads, sometimes plain garbage.
      const pieces = Array.from({ length: 1 + randomInt(rand, 8) }, () => rand() < 0.8
        ? Buffer.concat([frameHeader(randomInt(rand, 72)), Buffer.from(randomBytes(rand, randomInt(rand, 72)))])
        : Buffer.from(randomBytes(rand, randomInt(rand, 10))))
      for (const read of split(Buffer.concat(pieces), [1 + randomInt(rand, 20)])) {
        for (const frame of decoder.push(read)) {
          frames++
          if (frame.length > 64) t.fail('frame over the cap')
        }
      }
    } catch (err) {
      if (err instanceof TooLargeError) tooLarge++
      else t.fail(String(err))
    }
  }
  t.ok(tooLarge > 0 && frames > 0, `${frames} frames, ${tooLarge} refused`)
  t.end()
})

t.test('peer messages travel through the length-prefixed stream', (t) => {
  const messages = peerSamples(seededRandom(23))
  const decoder = new FrameDecoder(peerCodec.maxFrame)
  const bytes = stream(messages.map((m) => peerCodec.encode(m)))
  const out = feed(decoder, split(bytes, [65536, 1, 17, 1500]))
  t.same(out.map((f) => plain(peerCodec.decode(f))), messages.map(plain))
  t.throws(() => frameHeader(2 ** 32), RangeError, 'a header cannot announce 4 GiB or more')
  t.end()
})

t.test('scanFrame: depth, element and type limits', (t) => {
  const nested = (depth: number): Uint8Array => Uint8Array.of(...new Array(depth).fill(0x91), 0x01)
  const limits = { maxDepth: 3, maxElements: 100 }
  t.doesNotThrow(() => scanFrame(nested(3), limits), 'three nested arrays with maxDepth 3')
  t.throws(() => scanFrame(nested(4), limits), { code: ErrorCode.BAD_MESSAGE, message: /nested too deeply/ })
  t.doesNotThrow(() => scanFrame(Uint8Array.of(0x91, 0x91, 0x91, 0x90), limits), 'an empty array adds no depth')
  t.doesNotThrow(() => scanFrame(specPack([new Array(99).fill(0)]), limits), '100 elements')
  t.throws(() => scanFrame(specPack([new Array(100).fill(0)]), limits), { message: /too many elements/ })
  const accepted = specPack([null, 0, 127, 255, 65535, 2 ** 32 - 1, 2 ** 40, 0.5, 'x', 'y'.repeat(40), 'z'.repeat(300), 'w'.repeat(70_000),
    new Uint8Array(3), new Uint8Array(300), new Uint8Array(70_000), new Array(20).fill(1), [], [[]]])
  t.doesNotThrow(() => scanFrame(accepted, { maxDepth: 3, maxElements: 1000 }), 'every type a message uses')
  const more = Uint8Array.of(0x9a, 0xc2, 0xc3, 0xe0, 0xff, 0xd0, 0x80, 0xd1, 0, 1, 0xd2, 0, 0, 0, 1, 0xd3, 0, 0, 0, 0, 0, 0, 0, 1, 0xca, 0, 0, 0, 0, 0xcf, 0, 0, 0, 0, 0, 0, 0, 1)
  t.doesNotThrow(() => scanFrame(more, limits), 'booleans, negative integers, float32 and uint64')
  t.doesNotThrow(() => scanFrame(Uint8Array.of(0xdd, 0, 0, 0, 1, 0x01), limits), 'array32')
  t.throws(() => scanFrame(Uint8Array.of(0x01, 0x02), limits), { message: /trailing bytes/ })
  t.throws(() => scanFrame(new Uint8Array(0), limits), { message: /truncated/ })
  t.doesNotThrow(() => scanFrame(nested(20), { maxDepth: 20, maxElements: 100 }), 'deeper limits than before are honoured')
  t.throws(() => scanFrame(nested(21), { maxDepth: 20, maxElements: 100 }), { message: /nested too deeply/ })
  t.throws(() => scanFrame(Uint8Array.of(0xdd, 0, 0, 0, 2, 0x01), limits), { message: /truncated/ }, 'array32 longer than the frame')
  for (const head of [[0xc4], [0xda, 0], [0xc6, 0, 0, 0], [0xc6, 0, 0, 0, 1]]) {
    t.throws(() => scanFrame(Uint8Array.from(head), limits), { message: /truncated/ }, `length cut short: ${head}`)
  }
  t.end()
})
