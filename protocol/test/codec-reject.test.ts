import t from 'tap'
import type { Test } from 'tap'
import { Packr } from 'msgpackr'
import { FrameError, peekRequestId } from '../src/codec.js'
import { ErrorCode } from '../src/errors.js'
import { MAX_CHUNKS, MAX_ELEMENTS, MAX_REQUEST_ID, MAX_TOKEN_BYTES, PROTOCOL_VERSION } from '../src/limits.js'
import { peerCodec, trackerCodec } from '../src/messages.js'
import type { AnyCodec } from './helpers.js'
import { peerSamples, seededRandom, specPack, trackerSamples } from './helpers.js'

const { BAD_MESSAGE, TOO_LARGE, UNSUPPORTED_VERSION } = ErrorCode
// A packer that writes whatever it is given (maps for objects, ext for dates, uint64 for bigints).
const anything = new Packr({ useRecords: false })

/** Expects a FrameError with `code` and `requestId`; `reason` also pins which check refused the frame. */
function rejects(t: Test, codec: AnyCodec, bytes: unknown, code: string, requestId: number | undefined, what: string, reason?: RegExp): void {
  try {
    codec.decode(bytes as Uint8Array)
    t.fail(`${what}: decoded`)
  } catch (err) {
    if (!(err instanceof FrameError)) {
      t.fail(`${what}: threw ${String(err)}`)
      return
    }
    t.equal(err.code, code, `${what}: ${err.message}`)
    t.equal(err.requestId, requestId, `${what}: request id`)
    if (reason) t.match(err.message, reason, `${what}: refused by the right check`)
  }
}

/** The wire array of a valid sample, to corrupt one field at a time. */
function wireOf(codec: AnyCodec, msg: { type: string }): unknown[] {
  return anythingUnpack(codec.encode(msg))
}

function anythingUnpack(bytes: Uint8Array): unknown[] {
  return new Packr({ useRecords: false, mapsAsObjects: false }).unpack(bytes) as unknown[]
}

/** Values of the wrong kind for a field whose valid sample value is `sample`. */
function wrongValuesFor(sample: unknown): unknown[] {
  const always = [true, { a: 1 }, new Date(0), -1n << 63n]
  if (sample === null) return [...always, 7, Buffer.alloc(1), []] // an absent optional string
  if (typeof sample === 'number') return [...always, -1, 1.5, Number.NaN, Infinity, 'x', Buffer.alloc(1), [], null, 2 ** 53, 2n ** 64n - 1n]
  if (typeof sample === 'string') return [...always, 7, Buffer.from('ERR_X'), ['ERR_X'], null]
  if (sample instanceof Uint8Array) {
    const wrong: unknown[] = [...always, 7, 'x'.repeat(sample.length), [...sample], null]
    // Ids and keys have one exact length (16 or 32 bytes); no other sample binary has those lengths.
    if (sample.length === 16 || sample.length === 32) wrong.push(Buffer.alloc(sample.length - 1), Buffer.alloc(sample.length + 1))
    return wrong
  }
  if (Array.isArray(sample)) return [...always, 7, 'x', Buffer.alloc(2), null]
  if (typeof sample === 'boolean') return [...always.filter((v) => v !== true), 0, 1, 'true', Buffer.alloc(1), [], null]
  throw new Error('unexpected sample')
}

const codecs: [AnyCodec, (rand: () => number) => { type: string }[]][] = [[trackerCodec, trackerSamples], [peerCodec, peerSamples]]
for (const [codec, samples] of codecs) {
  t.test(`${codec.name}: every field of every type refuses values of the wrong kind`, (t) => {
    const seen = new Set<string>()
    for (const msg of samples(seededRandom(10))) {
      if (seen.has(msg.type)) continue
      seen.add(msg.type)
      const wire = wireOf(codec, msg)
      const hasId = 'id' in msg
      const id = hasId ? (msg as { id: number }).id : undefined
      for (let field = 1; field < wire.length; field++) {
        for (const wrong of wrongValuesFor(wire[field])) {
          if (wrong === null && msg.type === 'register' && field === 6) continue // the optional token
          const bytes = anything.pack([...wire.slice(0, field), wrong, ...wire.slice(field + 1)])
          const expectedId = hasId && field !== 1 ? id : undefined
          rejects(t, codec, bytes, BAD_MESSAGE, expectedId, `${msg.type} field ${field} = ${describe(wrong)}`)
        }
      }
      const expectedId = hasId ? id : undefined
      rejects(t, codec, anything.pack(wire.slice(0, -1)), BAD_MESSAGE, wire.length > 2 ? expectedId : undefined, `${msg.type} missing a field`)
      rejects(t, codec, anything.pack([...wire, 0]), BAD_MESSAGE, expectedId, `${msg.type} with an extra field`)
    }
    t.end()
  })

  t.test(`${codec.name}: every truncation of a valid frame is refused`, (t) => {
    for (const msg of samples(seededRandom(11))) {
      const frame = codec.encode(msg)
      if (frame.length > 4096) continue
      let wrongCode = 0
      for (let n = 0; n < frame.length; n++) {
        try {
          codec.decode(frame.subarray(0, n))
          wrongCode++
        } catch (err) {
          if (!(err instanceof FrameError) || err.code !== BAD_MESSAGE) wrongCode++
        }
      }
      t.equal(wrongCode, 0, `${msg.type}: ${frame.length} truncations`)
    }
    t.end()
  })

  t.test(`${codec.name}: trailing bytes are refused`, (t) => {
    for (const msg of samples(seededRandom(12)).slice(0, 2)) {
      const frame = codec.encode(msg)
      const id = 'id' in msg ? (msg as { id: number }).id : undefined
      rejects(t, codec, Buffer.concat([frame, Buffer.of(0)]), BAD_MESSAGE, id, `${msg.type} and one trailing byte`, /trailing bytes/)
      rejects(t, codec, Buffer.concat([frame, frame]), BAD_MESSAGE, id, `${msg.type} twice in one frame`, /trailing bytes/)
    }
    t.end()
  })
}

t.test('input that is not a Uint8Array is refused', (t) => {
  for (const input of ['\x92\x17\x01', new ArrayBuffer(3), new DataView(new ArrayBuffer(3)), [0x92, 0x17, 0x01], null, undefined, 42, {}]) {
    rejects(t, trackerCodec, input, BAD_MESSAGE, undefined, `input ${Object.prototype.toString.call(input)}`)
  }
  t.end()
})

t.test('frames over the codec cap or the type cap are refused as too large', (t) => {
  rejects(t, trackerCodec, new Uint8Array(trackerCodec.maxFrame + 1), TOO_LARGE, undefined, 'tracker garbage over the cap')
  rejects(t, peerCodec, new Uint8Array(peerCodec.maxFrame + 1), TOO_LARGE, undefined, 'peer garbage over the cap')
  // Valid msgpack, but bigger than its type allows: the size is checked before the structure.
  const padded = (code: number, size: number): Uint8Array => anything.pack([code, 1, Buffer.alloc(size)])
  rejects(t, trackerCodec, padded(4, 64 * 1024), TOO_LARGE, 1, 'heartbeat over 64 KiB')
  rejects(t, trackerCodec, padded(2, 512 * 1024), TOO_LARGE, 1, 'have over 512 KiB')
  rejects(t, trackerCodec, padded(1, 8 * 1024 * 1024), TOO_LARGE, 1, 'register over 8 MiB')
  rejects(t, peerCodec, padded(4, 64 * 1024), TOO_LARGE, 1, 'request over 64 KiB')
  rejects(t, peerCodec, padded(3, 512 * 1024), TOO_LARGE, undefined, 'peer have over 512 KiB')
  rejects(t, trackerCodec, padded(6, 11 * 1024 * 1024), BAD_MESSAGE, 1, 'publish under the codec cap is only checked field by field')
  t.end()
})

t.test('unknown type codes are refused', (t) => {
  for (const code of [0, 10, 19, 25, 127]) rejects(t, trackerCodec, specPack([code, 1]), BAD_MESSAGE, undefined, `tracker code ${code}`)
  for (const code of [0, 12, 127]) rejects(t, peerCodec, specPack([code, 1]), BAD_MESSAGE, undefined, `peer code ${code}`)
  rejects(t, trackerCodec, Uint8Array.of(0x92, 0xcc, 0x80, 0x01), BAD_MESSAGE, undefined, 'code 128 as uint8')
  rejects(t, trackerCodec, Uint8Array.of(0x92, 0xcc, 0x17, 0x01), BAD_MESSAGE, undefined, 'code 23 in a long form')
  rejects(t, trackerCodec, Uint8Array.of(0x92, 0xff, 0x01), BAD_MESSAGE, undefined, 'negative code')
  rejects(t, trackerCodec, Uint8Array.of(0x92, 0xa1, 0x61, 0x01), BAD_MESSAGE, undefined, 'code as a string')
  rejects(t, trackerCodec, new Uint8Array(0), BAD_MESSAGE, undefined, 'empty frame')
  rejects(t, trackerCodec, Uint8Array.of(0x90), BAD_MESSAGE, undefined, 'empty array')
  rejects(t, trackerCodec, Uint8Array.of(0x17), BAD_MESSAGE, undefined, 'not an array')
  rejects(t, trackerCodec, Uint8Array.of(0xdc, 0x00, 0x02), BAD_MESSAGE, undefined, 'array16 header only')
  t.same(trackerCodec.decode(Uint8Array.of(0xdc, 0x00, 0x02, 0x17, 0x05)), { type: 'ok', id: 5 }, 'array16 top level is fine')
  t.end()
})

t.test('unsupported versions are refused with their own code', (t) => {
  const register = trackerSamples(seededRandom(13))[0]
  const wire = wireOf(trackerCodec, register)
  for (const version of [0, PROTOCOL_VERSION - 1, PROTOCOL_VERSION + 1, 0xffff]) {
    rejects(t, trackerCodec, anything.pack([wire[0], wire[1], version, ...wire.slice(3)]), UNSUPPORTED_VERSION, 1, `register version ${version}`)
  }
  rejects(t, trackerCodec, anything.pack([wire[0], wire[1], 0x10000, ...wire.slice(3)]), BAD_MESSAGE, 1, 'register version over 16 bits')
  const handshake = wireOf(peerCodec, peerSamples(seededRandom(13))[0])
  rejects(t, peerCodec, anything.pack([handshake[0], PROTOCOL_VERSION + 1, ...handshake.slice(2)]), UNSUPPORTED_VERSION, undefined, 'handshake of a newer version')
  t.end()
})

t.test('integers out of range and non-integers are refused', (t) => {
  const ok = (id: number[]): Uint8Array => Uint8Array.of(0x92, 0x17, ...id)
  rejects(t, trackerCodec, ok([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), BAD_MESSAGE, undefined, 'uint64 max id')
  rejects(t, trackerCodec, ok([0xcf, 0, 0, 0, 1, 0, 0, 0, 0]), BAD_MESSAGE, undefined, 'id 2^32')
  rejects(t, trackerCodec, ok([0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]), BAD_MESSAGE, undefined, 'int64 min id')
  rejects(t, trackerCodec, ok([0xd0, 0xff]), BAD_MESSAGE, undefined, 'id -1')
  rejects(t, trackerCodec, ok([0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), BAD_MESSAGE, undefined, 'id 1.5')
  rejects(t, trackerCodec, ok([0xca, 0x7f, 0xc0, 0, 0]), BAD_MESSAGE, undefined, 'id NaN (float32)')
  t.same(trackerCodec.decode(ok([0xcf, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])), { type: 'ok', id: MAX_REQUEST_ID }, 'uint64 holding a 32-bit id')
  t.same(trackerCodec.decode(ok([0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0])), { type: 'ok', id: 1 }, 'an integral float is an integer')
  const have = (chunk: number): Uint8Array => specPack([2, 9, new Uint8Array(32), [chunk]])
  rejects(t, trackerCodec, have(MAX_CHUNKS), BAD_MESSAGE, 9, 'chunk index MAX_CHUNKS')
  rejects(t, trackerCodec, have(2 ** 40), BAD_MESSAGE, 9, 'chunk index 2^40 (float64)')
  for (const load of [-0.1, 1.0001, Number.NaN, Infinity, -Infinity]) {
    rejects(t, trackerCodec, specPack([4, 3, load]), BAD_MESSAGE, 3, `load ${load}`)
  }
  t.end()
})

t.test('lengths that promise more than the frame holds are refused without allocating', (t) => {
  const u32 = [0xff, 0xff, 0xff, 0xff]
  const before = process.memoryUsage().arrayBuffers
  rejects(t, trackerCodec, Uint8Array.of(0xdd, ...u32, 0x17), BAD_MESSAGE, undefined, 'top-level array32 of 2^32-1')
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x02, 0x01, 0xc4, 32, ...new Uint8Array(32), 0xdd, ...u32, 0x00), BAD_MESSAGE, 1, 'have with array32 of 2^32-1 chunks', /too many elements/)
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x02, 0x01, 0xc4, 32, ...new Uint8Array(32), 0xdc, 0xff, 0xff, 0x00), BAD_MESSAGE, 1, 'have with array16 of 65535 chunks and one byte', /truncated/)
  rejects(t, trackerCodec, Uint8Array.of(0x93, 0x06, 0x01, 0xc6, ...u32, 0x00), BAD_MESSAGE, 1, 'publish with bin32 of 4 GiB', /truncated/)
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x18, 0x01, 0xdb, ...u32, 0x45), BAD_MESSAGE, 1, 'error with str32 of 4 GiB', /truncated/)
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x18, 0x01, 0xd9, 0xff, 0x45), BAD_MESSAGE, 1, 'str8 past the end', /truncated/)
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x18, 0x01, 0xda, 0x00), BAD_MESSAGE, 1, 'str16 header cut short', /truncated/)
  t.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no large allocation')
  t.end()
})

t.test('more elements than MAX_ELEMENTS are refused', (t) => {
  const zeros = new Uint8Array(MAX_ELEMENTS + 1)
  const frame = Buffer.concat([Buffer.of(0x93, 0x06, 0x01, 0xdd), u32be(MAX_ELEMENTS + 1), zeros])
  rejects(t, trackerCodec, frame, BAD_MESSAGE, 1, 'publish with a list of 2^20+1 zeros', /too many elements/)
  t.end()
})

t.test('deep nesting is refused before any decoder recursion', (t) => {
  const nested = (depth: number, code = 0x17): Uint8Array => Buffer.concat([Buffer.of(0x92, code), Buffer.alloc(depth, 0x91), Buffer.of(0x01)])
  rejects(t, trackerCodec, nested(5), BAD_MESSAGE, undefined, 'id nested in 5 arrays')
  rejects(t, trackerCodec, nested(6), BAD_MESSAGE, undefined, 'id nested past MAX_DEPTH', /nested too deeply/)
  rejects(t, trackerCodec, nested(100_000, 0x06), BAD_MESSAGE, undefined, 'publish id nested 100,000 deep', /nested too deeply/)
  const contents = (depth: number): Uint8Array => {
    const wire = wireOf(trackerCodec, trackerSamples(seededRandom(14))[0])
    let inner: unknown = 1
    for (let i = 0; i < depth; i++) inner = [inner]
    return anything.pack([...wire.slice(0, 7), [inner]])
  }
  rejects(t, trackerCodec, contents(2), BAD_MESSAGE, 1, 'register contents holding nested lists')
  rejects(t, trackerCodec, contents(40), BAD_MESSAGE, 1, 'register contents nested 40 deep', /nested too deeply/)
  t.end()
})

t.test('maps, extensions and unused msgpack codes are refused', (t) => {
  rejects(t, trackerCodec, anything.pack({ 0: 23, 1: 1 }), BAD_MESSAGE, undefined, 'top-level map', /non-empty msgpack array/)
  rejects(t, trackerCodec, anything.pack([23, { id: 1 }]), BAD_MESSAGE, undefined, 'map as a field', /unsupported msgpack type 0xde/)
  rejects(t, trackerCodec, anything.pack([24, 1, 'ERR_X', JSON.parse('{"__proto__": 1}')]), BAD_MESSAGE, 1, 'map with a __proto__ key', /unsupported msgpack type 0xde/)
  rejects(t, trackerCodec, anything.pack([23, new Date(0)]), BAD_MESSAGE, undefined, 'timestamp extension', /unsupported msgpack type 0xd6/)
  const ext = [[0xd4, 0x01, 0x00], [0xd5, 0x01, 0, 0], [0xd6, 0x01, 0, 0, 0, 0], [0xd7, 0x01, ...new Uint8Array(8)], [0xd8, 0x01, ...new Uint8Array(16)], [0xc7, 0x01, 0x01, 0x00], [0xc8, 0x00, 0x01, 0x01, 0x00], [0xc9, 0, 0, 0, 1, 0x01, 0x00]]
  for (const e of ext) rejects(t, trackerCodec, Uint8Array.of(0x92, 0x17, ...e), BAD_MESSAGE, undefined, `ext 0x${e[0].toString(16)}`, new RegExp(`unsupported msgpack type 0x${e[0].toString(16)}`))
  for (const b of [0x80, 0x81, 0xde, 0xdf, 0xc1]) rejects(t, trackerCodec, Uint8Array.of(0x92, 0x17, b, 0, 0, 0, 0), BAD_MESSAGE, undefined, `code 0x${b.toString(16)}`, new RegExp(`unsupported msgpack type 0x${b.toString(16)}`))
  t.end()
})

t.test('request ids are reported only when the frame shows one', (t) => {
  const content = new Uint8Array(32)
  rejects(t, trackerCodec, specPack([8, 41, content, new Uint8Array(1), 201, false]), BAD_MESSAGE, 41, 'find with max over 200')
  rejects(t, trackerCodec, specPack([8, 48, content, new Uint8Array(1), 0, 1]), BAD_MESSAGE, 48, 'find with a number for its chunks flag', /find\.chunks must be true or false/)
  rejects(t, trackerCodec, specPack([8, 49, content, new Uint8Array(1), 0]), BAD_MESSAGE, 49, 'find without its chunks flag')
  rejects(t, trackerCodec, specPack([24, 42, 'not-a-code', 'x']), BAD_MESSAGE, 42, 'error with a malformed code')
  rejects(t, trackerCodec, specPack([1, 43, PROTOCOL_VERSION, new Uint8Array(16), new Uint8Array(16), 1, 'x'.repeat(MAX_TOKEN_BYTES + 1), []]), BAD_MESSAGE, 43, 'token over its limit')
  rejects(t, trackerCodec, specPack([1, 44, PROTOCOL_VERSION, new Uint8Array(16), new Uint8Array(16), 1, 'é'.repeat(MAX_TOKEN_BYTES / 2 + 1), []]), BAD_MESSAGE, 44, 'token over its limit in UTF-8 bytes')
  rejects(t, trackerCodec, specPack([1, 45, PROTOCOL_VERSION, new Uint8Array(16), new Uint8Array(16), 1, null, [[content, 3]]]), BAD_MESSAGE, 45, 'held content with two fields')
  rejects(t, peerCodec, specPack([1, PROTOCOL_VERSION, new Uint8Array(16), new Uint8Array(31)]), BAD_MESSAGE, undefined, 'handshake has no request id')
  rejects(t, peerCodec, specPack([3, [MAX_CHUNKS]]), BAD_MESSAGE, undefined, 'peer have has no request id')
  rejects(t, peerCodec, specPack([4, 46, content, 0, 0, 2 ** 24 + 1]), BAD_MESSAGE, 46, 'request length over 16 MiB')
  rejects(t, peerCodec, specPack([7, 47, 3_600_001]), BAD_MESSAGE, 47, 'busy for over an hour')
  rejects(t, trackerCodec, specPack([23, MAX_REQUEST_ID + 1]), BAD_MESSAGE, undefined, 'id over 32 bits')
  t.end()
})

t.test('invalid UTF-8 never crashes the decoder', (t) => {
  const frame = Uint8Array.of(0x94, 0x18, 0x05, 0xa5, 0x45, 0x52, 0x52, 0x5f, 0x41, 0xa3, 0xff, 0xed, 0xa0)
  const msg = trackerCodec.decode(frame)
  t.equal(msg.type, 'error')
  rejects(t, trackerCodec, Uint8Array.of(0x94, 0x18, 0x05, 0xa2, 0xff, 0xfe, 0xa0), BAD_MESSAGE, 5, 'invalid UTF-8 in the code')
  t.end()
})

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `binary(${value.length})`
  if (Array.isArray(value)) return `list(${value.length})`
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return `string(${value.length})`
  return String(value instanceof Date ? 'date' : typeof value === 'object' && value !== null ? 'map' : value)
}

t.test('the request id shows even in frames the codec refuses', (t) => {
  t.equal(peekRequestId(trackerCodec.encode({ type: 'ok', id: 5 })), 5)
  t.equal(peekRequestId(trackerCodec.encode({ type: 'ok', id: 300 })), 300)
  t.equal(peekRequestId(trackerCodec.encode({ type: 'ok', id: 70_000 })), 70_000)
  t.equal(peekRequestId(trackerCodec.encode({ type: 'ok', id: 200 })), 200)
  t.equal(peekRequestId(Uint8Array.of(0xdc, 0x00, 0x02, 0x08, 0x07)), 7, 'array16 header')
  for (const junk of [[], [0x91, 0x08], [0x92, 0xff, 0x01], [0x92, 0x08, 0xa1], [0x92, 0x08, 0xcd, 0x01], [0xc0], [0x82, 0x08, 0x05], [0xdc, 0x00, 0x01, 0x08, 0x05]]) {
    t.equal(peekRequestId(Uint8Array.from(junk)), undefined, `junk ${junk}`)
  }
  t.end()
})
