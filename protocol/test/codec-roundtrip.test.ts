import t from 'tap'
import { Codec, FrameError } from '../src/codec.js'
import { ErrorCode, ShoalError } from '../src/errors.js'
import { MAX_CHUNK_SIZE } from '../src/limits.js'
import { peerCodec, trackerCodec } from '../src/messages.js'
import type { AnyCodec, SpecMessage } from './helpers.js'
import { peerSamples, plain, seededRandom, specMessages, specPack, trackerSamples } from './helpers.js'

const SPEC = specMessages()

/** The wire array of `msg` as PROTOCOL.md's table lays it out. */
function toWire(msg: object, { code, fields }: SpecMessage): unknown[] {
  const values = msg as Record<string, unknown>
  return [code, ...fields.map((f) => {
    if (typeof f === 'string') return values[f] ?? null
    const [name, inner] = f
    return (values[name] as Record<string, unknown>[]).map((item) => inner.map((k) => item[k]))
  })]
}

const codecs: [AnyCodec, (rand: () => number) => { type: string }[]][] = [
  [trackerCodec, trackerSamples],
  [peerCodec, peerSamples],
]

for (const [codec, samples] of codecs) {
  t.test(`${codec.name}: every message type survives encode and decode`, (t) => {
    const messages = samples(seededRandom(1))
    t.same(new Set(messages.map((m) => m.type)), new Set(codec.types), 'the samples cover every type')
    for (const msg of messages) {
      const frame = codec.encode(msg)
      t.ok(frame.length <= codec.maxFrame, `${msg.type} fits the frame cap`)
      t.same(plain(codec.decode(frame)), plain(msg), `${msg.type} round trip`)
    }
    t.end()
  })

  t.test(`${codec.name}: frames are exactly the layout PROTOCOL.md describes`, (t) => {
    const table = SPEC[codec.name as 'tracker' | 'peer']
    t.same(new Set(table.keys()), new Set(codec.types), 'the tables list every type')
    for (const msg of samples(seededRandom(2))) {
      const expected = specPack(toWire(msg, table.get(msg.type)!))
      t.equal(Buffer.from(codec.encode(msg)).toString('hex'), Buffer.from(expected).toString('hex'), `${msg.type} bytes`)
      t.same(plain(codec.decode(expected)), plain(msg), `${msg.type} from an independent encoder`)
    }
    t.end()
  })
}

t.test('the largest piece fits the peer frame cap', (t) => {
  const data = new Uint8Array(MAX_CHUNK_SIZE).fill(7)
  const frame = peerCodec.encode({ type: 'piece', id: 0xffff_ffff, chunk: 1, offset: MAX_CHUNK_SIZE, data })
  t.ok(frame.length <= peerCodec.maxFrame)
  const back = peerCodec.decode(frame)
  t.equal(back.type, 'piece')
  if (back.type === 'piece') t.equal(Buffer.compare(back.data, data), 0)
  t.end()
})

t.test('decoding accepts frames at any offset of a larger buffer', (t) => {
  const frame = trackerCodec.encode({ type: 'have', id: 5, content: new Uint8Array(32).fill(1), chunks: [1, 2] })
  const outer = Buffer.concat([Buffer.from('junk'), frame, Buffer.from('more')])
  const view = outer.subarray(4, 4 + frame.length)
  t.same(plain(trackerCodec.decode(view)), plain({ type: 'have', id: 5, content: new Uint8Array(32).fill(1), chunks: [1, 2] }))
  t.same(plain(trackerCodec.decode(new Uint8Array(view))), plain(trackerCodec.decode(view)), 'plain Uint8Array input')
  t.end()
})

t.test('an encoded frame stays intact after later encodes', (t) => {
  const first = trackerCodec.encode({ type: 'ok', id: 1 })
  const copy = Buffer.from(first)
  for (let i = 0; i < 5000; i++) trackerCodec.encode({ type: 'heartbeat', id: i, load: 0.5 })
  t.equal(Buffer.compare(first, copy), 0)
  t.end()
})

t.test('encoding an unknown type fails with a typed error', (t) => {
  t.throws(() => trackerCodec.encode({ type: 'nope' } as never), { code: ErrorCode.BAD_MESSAGE })
  t.end()
})

t.test('a codec refuses duplicate or out-of-range type codes', (t) => {
  t.throws(() => new Codec('x', [{ type: 'a', code: 1 }, { type: 'b', code: 1 }] as never, 10), /duplicate/)
  t.throws(() => new Codec('x', [{ type: 'a', code: 0 }] as never, 10), /positive fixint/)
  t.throws(() => new Codec('x', [{ type: 'a', code: 128 }] as never, 10), /positive fixint/)
  t.end()
})

t.test('FrameError is a ShoalError carrying the cause', (t) => {
  const err = t.throws(() => peerCodec.decode(Uint8Array.of(0x92, 0x01, 0x02))) as unknown as FrameError
  t.ok(err instanceof FrameError && err instanceof ShoalError)
  t.equal(err.name, 'FrameError')
  t.ok(err.cause instanceof ShoalError)
  t.end()
})
