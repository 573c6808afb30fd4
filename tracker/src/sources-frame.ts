import type { FindResult } from './chunk-index.js'
import { WordScratch } from './word-scratch.js'
import { writeWsHeader, wsHeaderBytes } from './ws-frame.js'

/** The `sources` message's type code in the tracker protocol. */
const SOURCES_CODE = 21

const wantedWords = new WordScratch()
const chunkWords = new WordScratch()
/** A source's `chunks` when the find did not ask for them. */
const NOT_ASKED = new Uint8Array(0)

/**
 * Encodes `sources {id, content, peers, rarest}` straight from a find result, writing each
 * peer's held ∧ wanted into the frame a word at a time when the find asked for `chunks`, and
 * an empty binary in its place when not. It is the hot reply, and building per-peer byte
 * arrays for the generic codec costs several times more. It returns the whole WebSocket
 * frame; its payload is exactly what trackerCodec.encode produces for the same message (a
 * test holds it to that).
 */
export function encodeSourcesFrame(id: number, content: Uint8Array, result: FindResult, wanted: Uint8Array, chunks: boolean): Buffer {
  const chunkBytes = chunks ? wanted.length : 0
  // Exactly the frame's size, WebSocket header included, so the reply is one buffer and one write.
  const size = frameBytes(id, content, result, chunkBytes)
  const out = Buffer.allocUnsafe(wsHeaderBytes(size) + size)
  let at = writeWsHeader(out, size)
  const want = chunks ? wantedWords.load(wanted) : undefined
  if (want !== undefined) chunkWords.take(wanted.length)
  out[at++] = 0x95
  out[at++] = SOURCES_CODE
  at = writeUint(out, at, id)
  at = writeBin(out, at, content)
  at = writeArrayHeader(out, at, result.peers.length)
  for (const peer of result.peers) {
    out[at++] = 0x95
    at = writeBin(out, at, peer.peerId)
    at = writeStr(out, at, peer.host)
    at = writeUint(out, at, peer.port)
    if (want === undefined) at = writeBin(out, at, NOT_ASKED)
    else {
      andWords(chunkWords.words, peer.held, want)
      at = writeBin(out, at, chunkWords.bytes)
    }
    at = writeNumber(out, at, peer.load)
  }
  at = writeArrayHeader(out, at, result.rarest.length)
  for (const chunk of result.rarest) at = writeUint(out, at, chunk)
  return out
}

/** The encoded size of the frame encodeSourcesFrame writes. */
function frameBytes(id: number, content: Uint8Array, result: FindResult, chunkBytes: number): number {
  let size = 2 + uintBytes(id) + binBytes(content.length) + arrayHeaderBytes(result.peers.length)
  for (const peer of result.peers) {
    size += 1 + binBytes(peer.peerId.length) + strBytes(peer.host) + uintBytes(peer.port) + binBytes(chunkBytes) + numberBytes(peer.load)
  }
  size += arrayHeaderBytes(result.rarest.length)
  for (const chunk of result.rarest) size += uintBytes(chunk)
  return size
}

/** out = held ∧ want over held's words; a function of its own so it optimizes as a tight loop. */
function andWords(out: Uint32Array, held: Uint32Array, want: Uint32Array): void {
  for (let i = 0; i < held.length; i++) out[i] = held[i] & want[i]
}

// msgpack, in the forms msgpackr chooses: the smallest integer form, float64 for fractions.

function uintBytes(value: number): number {
  return value < 0x80 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : 5
}

function numberBytes(value: number): number {
  return value >>> 0 === value ? uintBytes(value) : 9
}

function arrayHeaderBytes(length: number): number {
  return length < 0x10 ? 1 : 3
}

function binBytes(length: number): number {
  return (length < 0x100 ? 2 : 3) + length
}

function strBytes(text: string): number {
  let length = text.length
  for (let i = 0; i < text.length && length === text.length; i++) if (text.charCodeAt(i) >= 0x80) length = Buffer.byteLength(text)
  return (length < 0x20 ? 1 : 2) + length
}

function writeUint(out: Buffer, at: number, value: number): number {
  if (value < 0x80) {
    out[at] = value
    return at + 1
  }
  if (value < 0x100) {
    out[at] = 0xcc
    out[at + 1] = value
    return at + 2
  }
  if (value < 0x10000) {
    out[at] = 0xcd
    out.writeUInt16BE(value, at + 1)
    return at + 3
  }
  out[at] = 0xce
  out.writeUInt32BE(value, at + 1)
  return at + 5
}

function writeNumber(out: Buffer, at: number, value: number): number {
  if (value >>> 0 === value) return writeUint(out, at, value)
  out[at] = 0xcb
  out.writeDoubleBE(value, at + 1)
  return at + 9
}

function writeArrayHeader(out: Buffer, at: number, length: number): number {
  if (length < 0x10) {
    out[at] = 0x90 | length
    return at + 1
  }
  out[at] = 0xdc
  out.writeUInt16BE(length, at + 1)
  return at + 3
}

/** Binaries here are at most a bitfield of MAX_CHUNKS bits (32 KiB), so bin16 is the largest form needed. */
function writeBin(out: Buffer, at: number, bytes: Uint8Array): number {
  const length = bytes.length
  if (length < 0x100) {
    out[at++] = 0xc4
    out[at++] = length
  } else {
    out[at++] = 0xc5
    out.writeUInt16BE(length, at)
    at += 2
  }
  // Ids are short: a loop beats set()'s fixed cost there.
  if (length <= 32) for (let i = 0; i < length; i++) out[at + i] = bytes[i]
  else out.set(bytes, at)
  return at + length
}

/** Hosts are at most 255 bytes (the codec's limit), so str8 is the largest form needed. */
function writeStr(out: Buffer, at: number, text: string): number {
  if (text.length < 0x20 && writeShortAscii(out, at, text)) return at + 1 + text.length
  const length = Buffer.byteLength(text)
  if (length < 0x20) {
    out[at] = 0xa0 | length
    at += 1
  } else {
    out[at] = 0xd9
    out[at + 1] = length
    at += 2
  }
  return at + out.write(text, at)
}

/** Writes a fixstr if `text` is ASCII (every address is); false, having written nothing useful, otherwise. */
function writeShortAscii(out: Buffer, at: number, text: string): boolean {
  out[at] = 0xa0 | text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) return false
    out[at + 1 + i] = c
  }
  return true
}
