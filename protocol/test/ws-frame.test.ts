import t from 'tap'
import { binaryFrame, writeWsHeader, wsHeaderBytes } from '../src/index.js'

/** Reads a server frame's header per RFC 6455 §5.2: where the payload starts and how long it is. */
function parseHeader(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; start: number; length: number } {
  const fin = (frame[0] & 0x80) !== 0
  const opcode = frame[0] & 0x0f
  const masked = (frame[1] & 0x80) !== 0
  const short = frame[1] & 0x7f
  if (short < 126) return { fin, opcode, masked, start: 2, length: short }
  if (short === 126) return { fin, opcode, masked, start: 4, length: frame.readUInt16BE(2) }
  return { fin, opcode, masked, start: 10, length: frame.readUInt32BE(2) * 2 ** 32 + frame.readUInt32BE(6) }
}

t.test('a payload of every length class comes back whole behind a final, unmasked binary header', async (t) => {
  for (const length of [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]) {
    const payload = Buffer.alloc(length)
    for (let i = 0; i < length; i++) payload[i] = (i * 31 + 7) & 0xff
    const frame = binaryFrame(payload)
    const header = parseHeader(frame)
    t.same({ fin: header.fin, opcode: header.opcode, masked: header.masked, length: header.length }, { fin: true, opcode: 2, masked: false, length }, `${length} B`)
    t.equal(header.start, wsHeaderBytes(length), `${length} B: header size`)
    t.equal(frame.length, header.start + length, `${length} B: nothing after the payload`)
    t.ok(frame.subarray(header.start).equals(payload), `${length} B: payload intact`)
  }
})

t.test('a header written at an offset leaves the bytes before it alone', async (t) => {
  const buffer = Buffer.alloc(16, 0xaa)
  const start = writeWsHeader(buffer, 300, 5)
  t.equal(start, 5 + 4)
  t.same([...buffer.subarray(0, 5)], [0xaa, 0xaa, 0xaa, 0xaa, 0xaa])
  t.same(parseHeader(buffer.subarray(5)), { fin: true, opcode: 2, masked: false, start: 4, length: 300 })
})
