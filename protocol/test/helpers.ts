import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CONTENT_ID_BYTES, MAX_CHUNK_LIST, MAX_CHUNKS, MAX_ERROR_MESSAGE_BYTES, MAX_HOST_BYTES, MAX_REQUEST_ID,
  MAX_SOURCES, MAX_TOKEN_BYTES, PEER_ID_BYTES, PEER_KEY_BYTES, PROTOCOL_VERSION,
} from '../src/limits.js'
import type { PeerMessage } from '../src/peer-messages.js'
import type { TrackerMessage } from '../src/tracker-messages.js'

/** What tests need of either codec, without its message union. */
export interface AnyCodec {
  readonly name: string
  readonly maxFrame: number
  readonly types: string[]
  encode(msg: { type: string }): Uint8Array
  decode(bytes: Uint8Array): { type: string }
}

/** A small seeded generator (mulberry32), so randomized tests replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function randomBytes(rand: () => number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256)
  return out
}

export function randomInt(rand: () => number, below: number): number {
  return Math.floor(rand() * below)
}

export function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[randomInt(rand, items.length)]
}

/** A fresh temp dir, removed when the test ends. */
export async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shoal-protocol-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Deep copy with binaries as hex and undefined properties dropped, so a decoded message
 * (Buffers, `token: undefined`) compares equal to what was encoded (Uint8Arrays, no token).
 */
export function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bin:${Buffer.from(value).toString('hex')}`
  if (Array.isArray(value)) return value.map(plain)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v)
    return out
  }
  return value
}

const utf8 = new TextEncoder()

/**
 * An independent msgpack encoder that follows PROTOCOL.md's encoding rules (shortest
 * form for every length and integer, integers of 2^32 and more as float64, other
 * numbers as float64). Tests compare it byte for byte with the codec and the manifest
 * encoder, which proves the spec describes what the code does.
 */
export function specPack(value: unknown): Uint8Array {
  const parts: number[] = []
  const u = (n: number, bytes: number): void => {
    for (let i = bytes - 1; i >= 0; i--) parts.push(Math.floor(n / 2 ** (8 * i)) & 0xff)
  }
  const float64 = (n: number): void => {
    const b = Buffer.alloc(8)
    b.writeDoubleBE(n)
    parts.push(0xcb, ...b)
  }
  const length = (n: number, fix: number | undefined, fixMax: number, codes: [number, number, number]): void => {
    if (fix !== undefined && n <= fixMax) parts.push(fix | n)
    else if (n < 0x100 && codes[0] !== 0) { parts.push(codes[0]); u(n, 1) }
    else if (n < 0x10000) { parts.push(codes[1]); u(n, 2) }
    else { parts.push(codes[2]); u(n, 4) }
  }
  const write = (v: unknown): void => {
    if (v === null || v === undefined) parts.push(0xc0)
    else if (typeof v === 'boolean') parts.push(v ? 0xc3 : 0xc2)
    else if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) float64(v)
      else if (v < 0x80) parts.push(v)
      else if (v < 0x100) { parts.push(0xcc); u(v, 1) }
      else if (v < 0x10000) { parts.push(0xcd); u(v, 2) }
      else { parts.push(0xce); u(v, 4) }
    } else if (typeof v === 'string') {
      const b = utf8.encode(v)
      length(b.length, 0xa0, 31, [0xd9, 0xda, 0xdb])
      for (const x of b) parts.push(x)
    } else if (v instanceof Uint8Array) {
      length(v.length, undefined, 0, [0xc4, 0xc5, 0xc6])
      for (const x of v) parts.push(x)
    } else if (Array.isArray(v)) {
      length(v.length, 0x90, 15, [0, 0xdc, 0xdd])
      for (const x of v) write(x)
    } else throw new Error(`specPack cannot encode ${typeof v}`)
  }
  write(value)
  return Uint8Array.from(parts)
}

const filled = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte)
const indices = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => from + i)

/** Every tracker message type with realistic values and edge values (limits, empty lists, optional fields). */
export function trackerSamples(rand: () => number): TrackerMessage[] {
  const content = (): Uint8Array => randomBytes(rand, CONTENT_ID_BYTES)
  const peerId = (): Uint8Array => randomBytes(rand, PEER_ID_BYTES)
  const maxBitfield = filled(MAX_CHUNKS / 8, 0xff)
  return [
    { type: 'register', id: 1, version: PROTOCOL_VERSION, peerId: peerId(), key: randomBytes(rand, PEER_KEY_BYTES), port: 7001, contents: [] },
    {
      type: 'register', id: MAX_REQUEST_ID, version: PROTOCOL_VERSION, peerId: peerId(), key: randomBytes(rand, PEER_KEY_BYTES), port: 0xffff,
      token: 't'.repeat(MAX_TOKEN_BYTES),
      contents: [
        { content: content(), chunkCount: 0, bitfield: new Uint8Array(0) },
        { content: content(), chunkCount: 10, bitfield: Uint8Array.of(0xa5, 0x40) },
        { content: content(), chunkCount: MAX_CHUNKS, bitfield: maxBitfield },
      ],
    },
    { type: 'register', id: 0, version: PROTOCOL_VERSION, peerId: filled(PEER_ID_BYTES, 0), key: filled(PEER_KEY_BYTES, 0xff), port: 0, token: '', contents: [] },
    { type: 'have', id: 2, content: content(), chunks: [0, 7, 300, 70_000] },
    { type: 'have', id: 3, content: content(), chunks: [] },
    { type: 'have', id: 4, content: content(), chunks: indices(MAX_CHUNK_LIST, MAX_CHUNKS - MAX_CHUNK_LIST) },
    { type: 'lost', id: 5, content: content(), chunks: [MAX_CHUNKS - 1] },
    { type: 'heartbeat', id: 6, load: 0 },
    { type: 'heartbeat', id: 7, load: 0.375 },
    { type: 'heartbeat', id: 8, load: 1 },
    { type: 'unregister', id: 9, content: content() },
    { type: 'publish', id: 10, manifest: randomBytes(rand, 300) },
    { type: 'publish', id: 11, manifest: new Uint8Array(0) },
    { type: 'get-manifest', id: 12, content: content() },
    { type: 'find', id: 13, content: content(), wanted: Uint8Array.of(0xff, 0xf0), max: 0, chunks: true },
    { type: 'find', id: 14, content: content(), wanted: maxBitfield, max: MAX_SOURCES, chunks: false },
    { type: 'report', id: 15, content: content(), peerId: peerId(), reason: 'chunk 3 failed its hash' },
    { type: 'report', id: 16, content: content(), peerId: peerId(), reason: 'é'.repeat(MAX_ERROR_MESSAGE_BYTES / 2) },
    { type: 'registered', id: 1, peerId: peerId(), address: '203.0.113.7', ttl: 60 },
    { type: 'registered', id: 2, peerId: peerId(), address: 'h'.repeat(MAX_HOST_BYTES), ttl: 0xffff_ffff },
    {
      type: 'sources', id: 13, content: content(), rarest: [5, 2, 9],
      peers: [
        { peerId: peerId(), host: '192.0.2.1', port: 7001, chunks: Uint8Array.of(0x80, 0x00), load: 0 },
        { peerId: peerId(), host: '2001:db8::1', port: 65535, chunks: Uint8Array.of(0x7f, 0xc0), load: 0.5 },
      ],
    },
    { type: 'sources', id: 14, content: content(), peers: [], rarest: [] },
    { type: 'sources', id: 16, content: content(), rarest: [0], peers: [{ peerId: peerId(), host: '192.0.2.9', port: 7009, chunks: new Uint8Array(0), load: 0.125 }] },
    {
      type: 'sources', id: 15, content: content(), rarest: indices(64),
      peers: indices(MAX_SOURCES).map((i) => ({ peerId: peerId(), host: `10.0.${i >> 8}.${i & 255}`, port: 1024 + i, chunks: filled(1024, i), load: i / MAX_SOURCES })),
    },
    { type: 'manifest', id: 12, content: content(), manifest: randomBytes(rand, 1000) },
    { type: 'ok', id: 9 },
    { type: 'ok', id: MAX_REQUEST_ID },
    { type: 'error', id: 0, code: 'ERR_BAD_MESSAGE', message: '' },
    { type: 'error', id: 77, code: 'ERR_SOMETHING_NEWER_2', message: 'm'.repeat(MAX_ERROR_MESSAGE_BYTES) },
  ]
}

/** Every peer-wire message type with realistic values and edge values. */
export function peerSamples(rand: () => number): PeerMessage[] {
  return [
    { type: 'handshake', version: PROTOCOL_VERSION, peerId: randomBytes(rand, PEER_ID_BYTES), content: randomBytes(rand, CONTENT_ID_BYTES) },
    { type: 'bitfield', bitfield: Uint8Array.of(0xff, 0x80) },
    { type: 'bitfield', bitfield: new Uint8Array(0) },
    { type: 'bitfield', bitfield: filled(MAX_CHUNKS / 8, 0x55) },
    { type: 'have', chunks: [0] },
    { type: 'have', chunks: [] },
    { type: 'have', chunks: indices(MAX_CHUNK_LIST, MAX_CHUNKS - MAX_CHUNK_LIST) },
    { type: 'request', id: 1, content: randomBytes(rand, CONTENT_ID_BYTES), chunk: 12, offset: 0, length: 1 << 20 },
    { type: 'request', id: MAX_REQUEST_ID, content: randomBytes(rand, CONTENT_ID_BYTES), chunk: MAX_CHUNKS - 1, offset: 1 << 24, length: 0 },
    { type: 'piece', id: 1, chunk: 12, offset: 0, data: randomBytes(rand, 4096) },
    { type: 'piece', id: 2, chunk: 0, offset: 0, data: new Uint8Array(0) },
    { type: 'cancel', id: 1 },
    { type: 'busy', id: 3, retryAfterMs: 250 },
    { type: 'busy', id: 4, retryAfterMs: 3_600_000 },
    { type: 'reject', id: 5, code: 'ERR_NOT_FOUND', message: 'chunk 12 is not held' },
    { type: 'error', id: 0, code: 'ERR_BAD_MESSAGE', message: 'x'.repeat(MAX_ERROR_MESSAGE_BYTES) },
    { type: 'get-manifest', id: 6, content: randomBytes(rand, CONTENT_ID_BYTES) },
    { type: 'manifest', id: 6, content: randomBytes(rand, CONTENT_ID_BYTES), manifest: randomBytes(rand, 300) },
    { type: 'manifest', id: 7, content: randomBytes(rand, CONTENT_ID_BYTES), manifest: new Uint8Array(0) },
  ]
}

/** PROTOCOL.md, which several tests hold to the code. */
export const SPEC_TEXT = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8')

/** A message's row in a PROTOCOL.md table: type code, field order (nested records expanded), size cap. */
export interface SpecMessage {
  code: number
  fields: (string | [string, string[]])[]
  /** The cap column: bytes, or undefined for "—" (the frame cap). */
  cap: number | undefined
}

/** The message tables of PROTOCOL.md §5 (tracker) and §6 (peer wire), parsed. */
export function specMessages(): Record<'tracker' | 'peer', Map<string, SpecMessage>> {
  const section = (from: string, to: string): string => SPEC_TEXT.slice(SPEC_TEXT.indexOf(from), SPEC_TEXT.indexOf(to))
  const fieldsOf = (cell: string): string[] => [...cell.matchAll(/`([A-Za-z]+)(?::([^`]*))?`/g)].map((m) => `${m[1]}:${m[2] ?? ''}`)
  const unit: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024 }
  const parse = (text: string): Map<string, SpecMessage> => {
    const records = new Map<string, string[]>()
    for (const [, name, cell] of text.matchAll(/^\| `([A-Z][A-Za-z]+)` \| (.+?) \|$/gm)) records.set(name, fieldsOf(cell).map((f) => f.split(':')[0]))
    const out = new Map<string, SpecMessage>()
    for (const [, code, type, cell, cap] of text.matchAll(/^\| (\d+) \| `([a-z-]+)` \| (.+?) \| ([^|]+?) \|/gm)) {
      const fields = fieldsOf(cell).map((f): string | [string, string[]] => {
        const [name, kind] = f.split(':')
        const record = /of ([A-Z][A-Za-z]+)/.exec(kind)?.[1]
        return record === undefined ? name : [name, records.get(record)!]
      })
      const size = /^(\d+) (KiB|MiB)$/.exec(cap)
      out.set(type, { code: Number(code), fields, cap: size ? Number(size[1]) * unit[size[2]] : undefined })
    }
    return out
  }
  return { tracker: parse(section('## 5.', '## 6.')), peer: parse(section('## 6.', '## 7.')) }
}
