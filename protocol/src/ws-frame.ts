/**
 * Final, unmasked binary WebSocket frames (RFC 6455 §5.2), as the tracker sends them, with
 * header and payload in one buffer: a reply then costs one socket write instead of ws's
 * two (header, then payload) and none of its per-send bookkeeping. Encoding only; reading
 * frames stays with ws.
 */

/** Header bytes in front of a payload of `length` bytes. */
export function wsHeaderBytes(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10
}

/** Writes the header for a payload of `length` bytes at `at` in `frame`; returns where the payload starts. */
export function writeWsHeader(frame: Buffer, length: number, at = 0): number {
  frame[at] = 0x82 // FIN + binary opcode
  if (length < 126) {
    frame[at + 1] = length
    return at + 2
  }
  if (length < 0x10000) {
    frame[at + 1] = 126
    frame[at + 2] = length >>> 8
    frame[at + 3] = length & 0xff
    return at + 4
  }
  frame[at + 1] = 127
  frame.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2)
  frame.writeUInt32BE(length >>> 0, at + 6)
  return at + 10
}

/** The frame carrying `payload`. */
export function binaryFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(wsHeaderBytes(payload.length) + payload.length)
  frame.set(payload, writeWsHeader(frame, payload.length))
  return frame
}
