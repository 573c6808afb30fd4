import { Bitfield, fromHex } from '@shoal/protocol'
import type { ContentKey, IndexPeer } from '../../src/chunk-index.js'

/** Peer number `n` with a deterministic id and address. */
export function testPeer(n: number): IndexPeer {
  const key = n.toString(16).padStart(32, '0')
  return { key, peerId: fromHex(key, 16) as Uint8Array, host: `127.0.0.${1 + (n % 200)}`, port: 10_000 + n }
}

export function testContent(n: number): ContentKey {
  return n.toString(16).padStart(64, 'c')
}

/** Wire bitfield of `size` bits with `indices` set. */
export function bits(size: number, indices: Iterable<number>): Uint8Array {
  return Bitfield.fromIndices(size, indices).bytes
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i)
}

export function setBits(size: number, bytes: Uint8Array): number[] {
  return new Bitfield(size, bytes).toArray()
}
