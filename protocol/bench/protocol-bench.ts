/**
 * Protocol micro-benchmarks: codec throughput for the hot messages, manifest hashing next
 * to raw SHA-256, and the side questions (records, the pre-decode scan, piece copies).
 * `npm run bench -w protocol [-- --time=MS]`; every figure comes from this run.
 */
import { createHash } from 'node:crypto'
import { Packr } from 'msgpackr'
import {
  FRAME_HEADER_BYTES, FrameDecoder, MAX_DEPTH, MAX_ELEMENTS, ManifestBuilder, frameHeader, peerCodec, scanFrame, trackerCodec,
} from '../src/index.js'
import type { PeerMessage, TrackerMessage } from '../src/index.js'

const TIME_MS = Number(/^--time=(\d+)$/.exec(process.argv[2] ?? '')?.[1] ?? 400)
const MiB = 1024 * 1024
const content = new Uint8Array(32).fill(0xab)
const piecePayload = new Uint8Array(MiB).fill(0x5a)
let sink = 0

/** Operations per second of `op`: warmed up, then the median of five samples of TIME_MS / 5 (the machine is shared). */
function rate(op: () => void): number {
  sample(op, TIME_MS / 4)
  const samples = Array.from({ length: 5 }, () => sample(op, TIME_MS / 5)).sort((a, b) => a - b)
  return samples[2]
}

/** Runs `op` in growing batches for about `ms` and returns operations per second. */
function sample(op: () => void, ms: number): number {
  let ops = 0
  let batch = 1
  const start = process.hrtime.bigint()
  for (;;) {
    for (let i = 0; i < batch; i++) op()
    ops += batch
    const ns = Number(process.hrtime.bigint() - start)
    if (ns >= ms * 1e6) return (ops * 1e9) / ns
    if (ns < ms * 1e5) batch *= 2
  }
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const row = (...cells: string[]): void => console.log(cells.map((c, i) => (i === 0 ? c.padEnd(36) : c.padStart(16))).join(''))

function codecRates(): void {
  const tracker: [string, TrackerMessage][] = [
    ['tracker have, 1 chunk', { type: 'have', id: 123_456, content, chunks: [4711] }],
    ['tracker have, 16 chunks', { type: 'have', id: 123_456, content, chunks: Array.from({ length: 16 }, (_, i) => 70_000 + i * 3) }],
    ['tracker find (1000 chunks, max 20)', { type: 'find', id: 123_456, content, wanted: new Uint8Array(125).fill(0xf7), max: 20, chunks: false }],
  ]
  const peer: [string, PeerMessage][] = [
    ['peer request', { type: 'request', id: 123_456, content, chunk: 4711, offset: 0, length: MiB }],
    ['peer piece header (empty payload)', { type: 'piece', id: 123_456, chunk: 4711, offset: 0, data: new Uint8Array(0) }],
    ['peer piece, 1 MiB payload', { type: 'piece', id: 123_456, chunk: 4711, offset: 0, data: piecePayload }],
  ]
  console.log('\nCodec (validated encode and decode, msgs/s)')
  row('message', 'bytes', 'encode/s', 'decode/s', 'enc+dec/s', 'enc+dec MB/s')
  const measure = <M extends { type: string }>(name: string, msg: M, codec: { encode(m: M): Uint8Array; decode(b: Uint8Array): M }): void => {
    const frame = codec.encode(msg)
    const enc = rate(() => { sink += codec.encode(msg).length })
    const dec = rate(() => { sink += codec.decode(frame).type.length })
    const both = rate(() => { sink += codec.decode(codec.encode(msg)).type.length })
    row(name, fmt(frame.length), fmt(enc), fmt(dec), fmt(both), fmt((both * frame.length) / 1e6, 1))
  }
  for (const [name, msg] of tracker) measure(name, msg, trackerCodec)
  for (const [name, msg] of peer) measure(name, msg, peerCodec)
}

function hashingRates(): void {
  const total = 64 * MiB
  const data = new Uint8Array(total)
  for (let i = 0; i < total; i += 4096) data[i] = i & 0xff
  const piece = 64 * 1024
  const raw = (): void => {
    const h = createHash('sha256')
    for (let at = 0; at < total; at += piece) h.update(data.subarray(at, at + piece))
    sink += h.digest()[0]
  }
  const builder = (chunkSize: number) => (): void => {
    const b = new ManifestBuilder({ name: 'bench', kind: 'file', files: [{ path: 'bench', size: total }], chunkSize })
    for (let at = 0; at < total; at += piece) b.update(data.subarray(at, at + piece))
    sink += b.finish().root[0]
  }
  console.log(`\nHashing ${total / MiB} MiB in memory, fed in ${piece / 1024} KiB pieces (MB/s)`)
  row('what', 'MB/s', 'vs raw')
  const rawRate = (rate(raw) * total) / 1e6
  row('node:crypto SHA-256 (raw)', fmt(rawRate, 1), '1.00')
  for (const chunkSize of [64 * 1024, MiB, 16 * MiB]) {
    const r = (rate(builder(chunkSize)) * total) / 1e6
    row(`ManifestBuilder, ${chunkSize >= MiB ? `${chunkSize / MiB} MiB` : `${chunkSize / 1024} KiB`} chunks`, fmt(r, 1), fmt(r / rawRate, 2))
  }
}

/** Same messages as plain objects through msgpackr records (shared structures) instead of positional arrays. */
function recordsComparison(): void {
  const have = { id: 123_456, content: Buffer.from(content), chunks: Array.from({ length: 16 }, (_, i) => 70_000 + i * 3) }
  const request = { id: 123_456, content: Buffer.from(content), chunk: 4711, offset: 0, length: MiB }
  const arrays = new Packr({ useRecords: false })
  const records = new Packr({ useRecords: true, structures: [] })
  console.log('\nmsgpackr alone, no validation: positional arrays vs records (pack+unpack/s)')
  row('message', 'array bytes', 'arrays/s', 'record bytes', 'records/s', 'records/arrays')
  for (const [name, obj] of [['have, 16 chunks', have], ['request', request]] as const) {
    const asArray = [2, ...Object.values(obj)]
    const a = rate(() => { sink += (arrays.unpack(arrays.pack(asArray)) as unknown[]).length })
    const r = rate(() => { sink += Object.keys(records.unpack(records.pack(obj)) as object).length })
    row(name, fmt(arrays.pack(asArray).length), fmt(a), fmt(records.pack(obj).length), fmt(r), fmt(r / a, 2))
  }
}

function scanCost(): void {
  const limits = { maxDepth: MAX_DEPTH, maxElements: MAX_ELEMENTS }
  const frames: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
    ['tracker have, 16 chunks', trackerCodec.encode({ type: 'have', id: 1, content, chunks: Array.from({ length: 16 }, (_, i) => 70_000 + i) }), (b) => trackerCodec.decode(b)],
    ['tracker have, 4096 chunks', trackerCodec.encode({ type: 'have', id: 1, content, chunks: Array.from({ length: 4096 }, (_, i) => 70_000 + i) }), (b) => trackerCodec.decode(b)],
    ['peer request', peerCodec.encode({ type: 'request', id: 1, content, chunk: 1, offset: 0, length: MiB }), (b) => peerCodec.decode(b)],
    ['peer piece, 1 MiB payload', peerCodec.encode({ type: 'piece', id: 1, chunk: 1, offset: 0, data: piecePayload }), (b) => peerCodec.decode(b)],
  ]
  console.log('\nPre-decode structure scan (scanFrame) inside decode')
  row('frame', 'scan ns', 'decode ns', 'scan share')
  for (const [name, frame, decode] of frames) {
    const scan = 1e9 / rate(() => scanFrame(frame, limits))
    const full = 1e9 / rate(() => { sink += decode(frame) === undefined ? 0 : 1 })
    row(name, fmt(scan), fmt(full), `${fmt((100 * scan) / full, 1)} %`)
  }
}

/** The piece header alone, with a bin 32 length, so the payload can follow as its own buffer. */
function pieceHead(id: number, chunk: number, offset: number, length: number): Buffer {
  const empty = peerCodec.encode({ type: 'piece', id, chunk, offset, data: new Uint8Array(0) })
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + empty.length + 3)
  head.writeUInt32BE(empty.length + 3 + length, 0)
  head.set(empty.subarray(0, empty.length - 2), FRAME_HEADER_BYTES)
  head[FRAME_HEADER_BYTES + empty.length - 2] = 0xc6
  head.writeUInt32BE(length, FRAME_HEADER_BYTES + empty.length - 1)
  return head
}

function pieceCopies(): void {
  console.log('\nA 1 MiB piece on the stream: copies of the payload')
  row('path', 'pieces/s', 'MB/s')
  const show = (name: string, perSecond: number): void => row(name, fmt(perSecond), fmt((perSecond * MiB) / 1e6, 1))
  show('send: encode whole frame (1 copy)', rate(() => { sink += frameHeader(MiB).length + peerCodec.encode({ type: 'piece', id: 1, chunk: 1, offset: 0, data: piecePayload }).length }))
  show('send: header only, payload as is', rate(() => { sink += pieceHead(1, 1, 0, MiB).length + piecePayload.length }))
  const stream = Buffer.concat([pieceHead(1, 1, 0, MiB), piecePayload])
  const whole = [stream]
  const reads = Array.from({ length: Math.ceil(stream.length / 65536) }, (_, i) => stream.subarray(i * 65536, (i + 1) * 65536))
  const receive = (chunks: Buffer[]) => (): void => {
    const decoder = new FrameDecoder(peerCodec.maxFrame)
    for (const c of chunks) for (const frame of decoder.push(c)) sink += peerCodec.decode(frame).type.length
  }
  show('receive: frame in one read (view)', rate(receive(whole)))
  show('receive: frame in 64 KiB reads (1 copy)', rate(receive(reads)))
  const decoded = peerCodec.decode(stream.subarray(FRAME_HEADER_BYTES))
  const view = decoded.type === 'piece' && decoded.data.buffer === stream.buffer
  console.log(`decode returns the payload as a view into the frame, not a copy: ${view}`)
}

console.log(`@shoal/protocol benchmark — node ${process.version}, ${TIME_MS} ms per figure`)
codecRates()
hashingRates()
recordsComparison()
scanCost()
pieceCopies()
if (sink === 0.5) console.log(sink)
