import t from 'tap'
import { ErrorCode } from '../src/errors.js'
import { MAX_CHUNKS, MAX_ERROR_CODE_BYTES, MAX_ERROR_MESSAGE_BYTES, MAX_REQUEST_ID, PROTOCOL_VERSION } from '../src/limits.js'
import { peerCodec } from '../src/messages.js'
import { MAX_PEER_CLIENT_FRAME, MAX_PIECE_HEAD_BYTES, maxPeerServerFrame } from '../src/peer-frame-bounds.js'

// Each message written by hand in its longest valid form: array 16, integers as uint 64,
// strings, binaries and lists with 32-bit lengths.

const uint64 = (n: number): Buffer => {
  const out = Buffer.alloc(9)
  out[0] = 0xcf
  out.writeBigUInt64BE(BigInt(n), 1)
  return out
}
const withLength = (marker: number, length: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(5)
  head[0] = marker
  head.writeUInt32BE(length, 1)
  return Buffer.concat([head, body])
}
const bin32 = (bytes: Buffer): Buffer => withLength(0xc6, bytes.length, bytes)
const str32 = (text: string): Buffer => withLength(0xdb, Buffer.byteLength(text), Buffer.from(text))
const list32 = (items: Buffer[]): Buffer => withLength(0xdd, items.length, Buffer.concat(items))
const frame = (code: number, fields: Buffer[]): Buffer => Buffer.concat([Buffer.of(0xdc, 0, fields.length + 1, code), ...fields])

const content = Buffer.alloc(32, 7)
const longestCode = `ERR_${'X'.repeat(MAX_ERROR_CODE_BYTES - 4)}`
// Two bytes a character: valid UTF-8 of exactly the longest message.
const longestMessage = 'é'.repeat(MAX_ERROR_MESSAGE_BYTES / 2)

t.test('nothing a downloader sends is longer than an error with the longest code and message', (t) => {
  const id = uint64(MAX_REQUEST_ID)
  const sent: [string, Buffer][] = [
    ['handshake', frame(1, [uint64(PROTOCOL_VERSION), bin32(Buffer.alloc(16, 1)), bin32(content)])],
    ['request', frame(4, [id, bin32(content), uint64(MAX_CHUNKS - 1), uint64(16 * 1024 * 1024), uint64(16 * 1024 * 1024)])],
    ['cancel', frame(6, [id])],
    ['get-manifest', frame(10, [id, bin32(content)])],
    ['error', frame(9, [id, str32(longestCode), str32(longestMessage)])],
  ]
  for (const [type, bytes] of sent) {
    t.equal(peerCodec.decode(bytes).type, type, `${type} in its longest form decodes`)
    t.ok(bytes.length <= MAX_PEER_CLIENT_FRAME, `${type}: ${bytes.length} bytes`)
  }
  t.equal(sent[4][1].length, MAX_PEER_CLIENT_FRAME, 'the error reaches the bound')
  t.throws(() => peerCodec.decode(frame(9, [id, str32(`${longestCode}X`), str32('')])), { code: ErrorCode.BAD_MESSAGE }, 'a longer code is refused')
  t.throws(() => peerCodec.decode(frame(9, [id, str32(longestCode), str32(`${longestMessage}x`)])), { code: ErrorCode.BAD_MESSAGE }, 'so is a longer message')
  t.end()
})

t.test('a server sends nothing longer than a whole chunk\'s piece, a have naming every chunk, or an error', (t) => {
  const chunkSize = 16 * 1024
  const piece = frame(5, [uint64(MAX_REQUEST_ID), uint64(MAX_CHUNKS - 1), uint64(0), bin32(Buffer.alloc(chunkSize, 3))])
  t.equal(peerCodec.decode(piece).type, 'piece')
  t.equal(piece.length, MAX_PIECE_HEAD_BYTES + chunkSize, 'the piece head bound is reached')
  t.equal(maxPeerServerFrame(chunkSize, 5), piece.length, 'a few chunks: the piece is the longest')

  const chunkCount = 2000
  const have = frame(3, [list32(Array.from({ length: chunkCount }, (_, c) => uint64(c)))])
  t.equal(peerCodec.decode(have).type, 'have')
  t.ok(have.length > piece.length)
  t.equal(maxPeerServerFrame(chunkSize, chunkCount), have.length, 'many small chunks: the have naming them all is')

  const reject = frame(8, [uint64(MAX_REQUEST_ID), str32(longestCode), str32(longestMessage)])
  t.equal(peerCodec.decode(reject).type, 'reject')
  t.equal(reject.length, MAX_PEER_CLIENT_FRAME, 'a reject is as long as an error')
  t.ok(maxPeerServerFrame(1, 1) >= reject.length, 'and never refused')
  t.end()
})
