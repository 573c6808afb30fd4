import { FRAME_HEADER_BYTES, peerCodec } from '@shoal/protocol'
import type { PieceMessage } from '@shoal/protocol'

/** msgpack `bin 32` marker. */
const BIN32 = 0xc6
/** How msgpack writes an empty binary: `bin 8` of length 0. */
const EMPTY_BIN = [0xc4, 0x00]

/**
 * The bytes of a piece frame that precede its data: the stream length prefix, then the
 * message encoded with an empty payload, whose trailing empty binary is swapped for a
 * `bin 32` header of the real length. Writing this and then the caller's buffer sends a
 * 1 MiB piece without copying the payload into a frame.
 */
export function pieceFrameHead(msg: Omit<PieceMessage, 'type' | 'data'>, dataLength: number): Buffer {
  const empty = peerCodec.encode({ type: 'piece', ...msg, data: new Uint8Array(0) })
  const keep = empty.length - EMPTY_BIN.length
  if (empty[keep] !== EMPTY_BIN[0] || empty[keep + 1] !== EMPTY_BIN[1]) throw new Error('unexpected piece encoding')
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + keep + 5)
  head.writeUInt32BE(keep + 5 + dataLength, 0)
  head.set(empty.subarray(0, keep), FRAME_HEADER_BYTES)
  head[FRAME_HEADER_BYTES + keep] = BIN32
  head.writeUInt32BE(dataLength, FRAME_HEADER_BYTES + keep + 1)
  return head
}
