import { Bitfield, FrameError, PROTOCOL_VERSION } from '@shoal/protocol'
import type { Codec } from '@shoal/protocol'
import type { PeerMessage, TrackerMessage } from '@shoal/protocol'
import { craftManifest } from './fault-manifest.js'

/** A small seeded generator (mulberry32): the same seed gives the same frames. */
export class Rng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    let z = (this.state = (this.state + 0x6d2b79f5) >>> 0)
    z = Math.imul(z ^ (z >>> 15), z | 1)
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61)
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }

  /** Mostly small numbers, sometimes any size: where boundaries hide. */
  size(max: number): number {
    const r = this.next()
    if (r < 0.6) return this.int(Math.min(max, 16) + 1)
    if (r < 0.9) return this.int(Math.min(max, 4096) + 1)
    return this.int(max + 1)
  }
}

/** How a fuzz frame was made; every kind but `valid` is meant to be refused. */
export type FrameKind = 'valid' | 'mutated' | 'truncated' | 'random' | 'oversized' | 'trailing' | 'retyped' | 'empty'

export interface FuzzFrame {
  kind: FrameKind
  bytes: Uint8Array
}

/**
 * Turns one valid frame into a fuzz frame: sent as is, with bytes flipped, inserted or
 * deleted, cut short, with junk after it, with another type code, replaced by random
 * bytes, or padded past `oversize` (a size the receiver must refuse).
 */
export function fuzzFrame(rng: Rng, valid: Uint8Array, oversize: number): FuzzFrame {
  const r = rng.next()
  if (r < 0.3) return { kind: 'valid', bytes: valid }
  if (r < 0.55) return { kind: 'mutated', bytes: mutate(rng, valid) }
  if (r < 0.7) return { kind: 'truncated', bytes: valid.subarray(0, rng.int(Math.max(1, valid.length))) }
  if (r < 0.8) return { kind: 'random', bytes: rng.bytes(rng.size(512)) }
  if (r < 0.87) return { kind: 'trailing', bytes: concat(valid, rng.bytes(1 + rng.int(8))) }
  if (r < 0.95) return { kind: 'retyped', bytes: retype(rng, valid) }
  if (r < 0.97) return { kind: 'empty', bytes: new Uint8Array(0) }
  return { kind: 'oversized', bytes: oversized(rng, valid, oversize) }
}

function mutate(rng: Rng, frame: Uint8Array): Uint8Array {
  const out = Array.from(frame)
  for (let n = 1 + rng.int(4); n > 0 && out.length > 0; n--) {
    const at = rng.int(out.length)
    const op = rng.int(4)
    if (op === 0) out[at] = rng.int(256)
    else if (op === 1) out[at] ^= 1 << rng.int(8)
    else if (op === 2) out.splice(at, 0, rng.pick([0xc1, 0xc0, 0xdd, 0xdf, 0xc6, 0xd4, 0x80, 0x90, 0xff, rng.int(256)]))
    else out.splice(at, 1)
  }
  return Uint8Array.from(out)
}

/** Another type code in the same array: valid for some other message, or unknown. */
function retype(rng: Rng, frame: Uint8Array): Uint8Array {
  const out = Uint8Array.from(frame)
  const at = out[0] === 0xdc ? 3 : 1
  if (at < out.length) out[at] = rng.chance(0.7) ? 1 + rng.int(30) : rng.int(256)
  return out
}

/** The frame with its last binary or the whole frame grown beyond `limit`. */
function oversized(rng: Rng, frame: Uint8Array, limit: number): Uint8Array {
  const out = new Uint8Array(limit + 1 + rng.int(1024))
  out.set(frame.subarray(0, Math.min(frame.length, 8)))
  return out
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** What a receiver using `codec` makes of the bytes: the message, or the error it answers with. */
export function judge<M extends { type: string }>(codec: Codec<M>, bytes: Uint8Array): { msg: M } | { error: FrameError } {
  try {
    return { msg: codec.decode(bytes) }
  } catch (err) {
    if (!(err instanceof FrameError)) throw new Error(`codec threw something other than a FrameError: ${String(err)}`)
    return { error: err }
  }
}

/** A content the fuzzers may name in otherwise valid frames. */
export interface FuzzContent {
  id: Uint8Array
  chunkCount: number
}

/** A bitfield over `chunkCount`, usually of the right length, sometimes not. */
function bitfield(rng: Rng, chunkCount: number): Uint8Array {
  if (rng.chance(0.1)) return rng.bytes(rng.size(64))
  const field = new Bitfield(chunkCount)
  for (let i = 0; i < chunkCount; i++) if (rng.chance(0.5)) field.set(i)
  return field.bytes
}

function chunkList(rng: Rng, chunkCount: number): number[] {
  return Array.from({ length: rng.size(32) }, () => (rng.chance(0.9) ? rng.int(Math.max(1, chunkCount)) : rng.int(262_144)))
}

/** A random but well-formed tracker message (any type, either direction) with request id `id`. */
export function trackerMessage(rng: Rng, id: number, contents: FuzzContent[], manifests: Uint8Array[]): TrackerMessage {
  const c = rng.chance(0.8) ? rng.pick(contents) : { id: rng.bytes(32), chunkCount: rng.size(2048) }
  const peerId = rng.bytes(16)
  switch (rng.int(14)) {
    case 0: {
      const held = Array.from({ length: rng.int(4) }, () => {
        const h = rng.chance(0.8) ? rng.pick(contents) : { id: rng.bytes(32), chunkCount: rng.size(4096) }
        const chunkCount = rng.chance(0.9) ? h.chunkCount : rng.size(4096)
        return { content: h.id, chunkCount, bitfield: bitfield(rng, chunkCount) }
      })
      return { type: 'register', id, version: rng.chance(0.95) ? PROTOCOL_VERSION : rng.int(5), peerId, key: rng.bytes(16), port: rng.int(65536), token: rng.chance(0.1) ? 'x' : undefined, contents: held }
    }
    case 1:
    case 2:
      return { type: 'have', id, content: c.id, chunks: chunkList(rng, c.chunkCount) }
    case 3:
      return { type: 'lost', id, content: c.id, chunks: chunkList(rng, c.chunkCount) }
    case 4:
      return { type: 'heartbeat', id, load: rng.next() }
    case 5:
      return { type: 'unregister', id, content: c.id }
    case 6:
      return { type: 'publish', id, manifest: rng.chance(0.5) ? rng.pick(manifests) : rng.bytes(rng.size(300)) }
    case 7:
      return { type: 'get-manifest', id, content: c.id }
    case 8:
    case 9:
      return { type: 'find', id, content: c.id, wanted: bitfield(rng, c.chunkCount), max: rng.int(201), chunks: rng.int(2) === 1 }
    case 10:
      return { type: 'report', id, content: c.id, peerId, reason: 'fuzz' }
    case 11:
      return { type: 'ok', id }
    case 12:
      return { type: 'error', id, code: 'ERR_BAD_MESSAGE', message: 'fuzz' }
    default:
      return { type: 'registered', id, peerId, address: '127.0.0.1', ttl: rng.int(1000) }
  }
}

/** A random but well-formed peer-wire message; requests name `content` and stay mostly in range. */
export function peerMessage(rng: Rng, id: number, content: FuzzContent & { chunkSize: number }): PeerMessage {
  switch (rng.int(12)) {
    case 0:
      return { type: 'handshake', version: PROTOCOL_VERSION, peerId: rng.bytes(16), content: content.id }
    case 1:
      return { type: 'bitfield', bitfield: bitfield(rng, content.chunkCount) }
    case 2:
      return { type: 'have', chunks: chunkList(rng, content.chunkCount) }
    case 3:
    case 4:
    case 5:
    case 6: {
      const chunk = rng.chance(0.9) ? rng.int(content.chunkCount) : content.chunkCount + rng.int(10)
      const offset = rng.chance(0.9) ? rng.int(content.chunkSize) : rng.int(2 * content.chunkSize)
      const length = rng.chance(0.95) ? 1 + rng.int(2048) : rng.size(2 * content.chunkSize)
      return { type: 'request', id, content: rng.chance(0.95) ? content.id : rng.bytes(32), chunk, offset, length }
    }
    case 7:
      return { type: 'cancel', id: rng.chance(0.5) ? id - 1 - rng.int(4) : id }
    case 8:
      return { type: 'piece', id, chunk: rng.int(content.chunkCount), offset: 0, data: rng.bytes(rng.size(64)) }
    case 9:
      return { type: 'busy', id, retryAfterMs: rng.int(1000) }
    case 10:
      return { type: 'reject', id, code: 'ERR_NOT_FOUND', message: 'fuzz' }
    default:
      return { type: 'error', id, code: 'ERR_BAD_MESSAGE', message: 'fuzz' }
  }
}

/** Small valid manifests (made-up chunk hashes), the raw material of publish frames. */
export function sampleManifests(rng: Rng, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => {
    const size = 1 + rng.int(64 * 16 * 1024)
    return craftManifest({ name: `fuzz-${i}.bin`, kind: 'file', files: [{ path: `fuzz-${i}.bin`, size }], seed: `${rng.next()}` }).bytes
  })
}
