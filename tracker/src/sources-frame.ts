import { writeWsHeader, wsHeaderBytes } from '@shoal/protocol'
import type { FindResult } from './chunk-index.js'

/** The `sources` message's type code in the tracker protocol. */
const SOURCES_CODE = 21

/** Room in front of the payload for the longest WebSocket header, written once the length is known. */
const HEADER_ROOM = 10

/**
 * Encodes `sources {id, content, peers, rarest}` straight from a find result. It is the hot
 * reply, and the generic codec costs several times more. The frame is written in one pass
 * into a reused scratch buffer (sizing it first cost as much as writing it) and copied out
 * whole, WebSocket header included, so the reply is one buffer and one write. Its payload
 * is exactly what trackerCodec.encode produces for the same message (a test holds it to that).
 */
export function encodeSourcesFrame(id: number, content: Uint8Array, result: FindResult): Buffer {
  const tail = 3 + 5 * result.rarest.length
  let out = room(HEADER_ROOM + 16 + content.length + tail, 0)
  let at = HEADER_ROOM
  out[at++] = 0x95
  out[at++] = SOURCES_CODE
  at = writeUint(out, at, id)
  at = writeBin(out, at, content)
  at = writeArrayHeader(out, at, result.peers.length)
  for (const peer of result.peers) {
    // The largest forms: array header, bin16 id, str8 host (at most 3 bytes a UTF-16 unit), uint32 port, bin16 chunks, float64 load.
    out = room(at + 1 + 3 + peer.peerId.length + 2 + 3 * peer.host.length + 5 + 3 + peer.chunks.length + 9 + tail, at)
    out[at++] = 0x95
    at = writeBin(out, at, peer.peerId)
    at = writeStr(out, at, peer.host)
    at = writeUint(out, at, peer.port)
    at = writeBin(out, at, peer.chunks)
    at = writeNumber(out, at, peer.load)
  }
  at = writeArrayHeader(out, at, result.rarest.length)
  for (let i = 0; i < result.rarest.length; i++) at = writeUint(out, at, result.rarest[i])
  const size = at - HEADER_ROOM
  const start = HEADER_ROOM - wsHeaderBytes(size)
  writeWsHeader(out, size, start)
  const frame = Buffer.allocUnsafe(at - start)
  out.copy(frame, 0, start, at)
  // A huge answer (chunk lists of a large content) does not pin its scratch for good.
  if (scratch.length > MAX_KEPT_SCRATCH) scratch = Buffer.allocUnsafe(SCRATCH_BYTES)
  return frame
}

const SCRATCH_BYTES = 64 * 1024
const MAX_KEPT_SCRATCH = 1024 * 1024

/** The encoder's scratch, reused by every reply (encoding is synchronous). */
let scratch = Buffer.allocUnsafe(SCRATCH_BYTES)

/** The scratch, grown to at least `bytes` with its first `keep` bytes kept. */
function room(bytes: number, keep: number): Buffer {
  if (bytes > scratch.length) {
    const grown = Buffer.allocUnsafe(Math.max(bytes, 2 * scratch.length))
    scratch.copy(grown, 0, 0, keep)
    scratch = grown
  }
  return scratch
}

// msgpack, in the forms msgpackr chooses: the smallest integer form, float64 for fractions.

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
  // Byte stores: Buffer's writeUInt16BE / writeUInt32BE check their arguments on every call.
  if (value < 0x10000) {
    out[at] = 0xcd
    out[at + 1] = value >>> 8
    out[at + 2] = value & 0xff
    return at + 3
  }
  out[at] = 0xce
  out[at + 1] = value >>> 24
  out[at + 2] = (value >>> 16) & 0xff
  out[at + 3] = (value >>> 8) & 0xff
  out[at + 4] = value & 0xff
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
