import t from 'tap'
import { Bitfield } from '../src/bitfield.js'
import { CloseCode } from '../src/close-codes.js'
import { FrameError } from '../src/codec.js'
import { ErrorCode } from '../src/errors.js'
import { frameHeader } from '../src/framing.js'
import { toHex } from '../src/hash.js'
import * as limits from '../src/limits.js'
import { formatLink } from '../src/link.js'
import { contentIdOf, encodeManifest } from '../src/manifest.js'
import { ManifestBuilder } from '../src/manifest-builder.js'
import { peerCodec, trackerCodec } from '../src/messages.js'
import type { AnyCodec } from './helpers.js'
import { SPEC_TEXT, specMessages } from './helpers.js'

// PROTOCOL.md is normative and its examples claim to come from this code: hold it to that.

/** Hex in the spec may be split by spaces for reading. */
const inSpec = (hex: string): boolean => SPEC_TEXT.replace(/(?<=[0-9a-f]) (?=[0-9a-f])/g, '').includes(hex)

function exampleManifest(kind: 'file' | 'directory'): Uint8Array {
  const files = kind === 'file' ? [{ path: 'hello.txt', size: 6 }] : [{ path: 'sub/empty', size: 0 }, { path: 'hello.txt', size: 6 }]
  const builder = new ManifestBuilder({ name: kind === 'file' ? 'hello.txt' : 'greetings', kind, chunkSize: 16 * 1024, files })
  builder.update(Buffer.from('hello\n'))
  return encodeManifest(builder.finish())
}

t.test('the worked examples are what the code produces', (t) => {
  const manifest = exampleManifest('directory')
  const id = contentIdOf(manifest)
  const examples: [string, Uint8Array][] = [
    ['directory manifest', manifest],
    ['its content id', id],
    ['file manifest', exampleManifest('file')],
    ['its content id', contentIdOf(exampleManifest('file'))],
    ['tracker have', trackerCodec.encode({ type: 'have', id: 7, content: id, chunks: [0, 1, 300] })],
    ['ok', trackerCodec.encode({ type: 'ok', id: 300 })],
    ['heartbeat', trackerCodec.encode({ type: 'heartbeat', id: 9, load: 0.25 })],
    ['error', trackerCodec.encode({ type: 'error', id: 7, code: 'ERR_NOT_FOUND', message: 'no such content' })],
    ['peer have framed', Buffer.concat([frameHeader(7), peerCodec.encode({ type: 'have', chunks: [5, 300] })])],
    ['piece framed', Buffer.concat([frameHeader(11), peerCodec.encode({ type: 'piece', id: 1, chunk: 2, offset: 0, data: Buffer.from('abcd') })])],
    ['bitfield', Bitfield.fromIndices(10, [0, 9]).bytes],
  ]
  for (const [what, bytes] of examples) t.ok(inSpec(toHex(bytes)), `${what}: ${toHex(bytes).slice(0, 60)}`)
  const link = formatLink({ content: id, trackers: ['ws://127.0.0.1:7000', 'wss://tracker.example.org'], name: 'greetings' })
  t.ok(SPEC_TEXT.includes(link), 'share link')
  t.end()
})

t.test('every size cap in the tables is the one the codec enforces', (t) => {
  const codecs: [AnyCodec, 'tracker' | 'peer'][] = [[trackerCodec, 'tracker'], [peerCodec, 'peer']]
  /** A frame of the given type of exactly `size` bytes: [code, 1, bin 32 of the rest]. */
  const frameOf = (code: number, size: number): Uint8Array => {
    const frame = Buffer.alloc(size)
    frame.set([0x93, code, 0x01, 0xc6])
    frame.writeUInt32BE(size - 8, 4)
    return frame
  }
  const codeOf = (codec: AnyCodec, bytes: Uint8Array): string => {
    try {
      codec.decode(bytes)
      return 'decoded'
    } catch (err) {
      return (err as FrameError).code
    }
  }
  for (const [codec, name] of codecs) {
    for (const [type, { code, cap }] of specMessages()[name]) {
      const limit = cap ?? codec.maxFrame
      t.not(codeOf(codec, frameOf(code, limit)), ErrorCode.TOO_LARGE, `${name} ${type}: ${limit} bytes pass the size checks`)
      t.equal(codeOf(codec, frameOf(code, limit + 1)), ErrorCode.TOO_LARGE, `${name} ${type}: ${limit + 1} bytes are too large`)
    }
  }
  t.end()
})

t.test('the limits, error codes and close codes listed are the exported ones', (t) => {
  const numbers: Record<string, number> = { ...limits }
  for (const [name, value] of Object.entries(numbers)) t.ok(SPEC_TEXT.includes(`\`${name}\``), `${name} (${value}) is in the spec`)
  for (const code of Object.values(ErrorCode)) t.ok(SPEC_TEXT.includes(`| \`${code}\` |`), `${code} has a row`)
  for (const [name, code] of Object.entries(CloseCode)) t.ok(SPEC_TEXT.includes(`| ${code} | ${name} |`), `${code} ${name} has a row`)
  t.equal(limits.MAX_TRACKER_FRAME, 12 * 1024 * 1024)
  t.equal(limits.MAX_PEER_FRAME, 16 * 1024 * 1024 + 1024)
  t.equal(limits.MAX_CHUNKS, 262_144)
  t.equal(limits.MAX_ELEMENTS, 1_048_576)
  t.equal(limits.MAX_DEPTH, 6)
  t.end()
})
