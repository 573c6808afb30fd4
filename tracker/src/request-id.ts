/**
 * Reads the request id (second element of the top-level msgpack array) from a frame the
 * codec refused before parsing it, e.g. one over its size cap, so the error reply can
 * still name the request. Returns 0 when the bytes do not show one.
 */
export function peekRequestId(bytes: Uint8Array): number {
  let at: number
  if (bytes[0] >= 0x92 && bytes[0] <= 0x9f) at = 1
  else if (bytes[0] === 0xdc && bytes.length > 3 && (bytes[1] << 8 | bytes[2]) >= 2) at = 3
  else return 0
  if (at >= bytes.length || bytes[at] > 0x7f) return 0
  at++ // the message type code, a positive fixint
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const b = bytes[at]
  if (b === undefined) return 0
  if (b <= 0x7f) return b
  if (b === 0xcc && at + 1 < bytes.length) return bytes[at + 1]
  if (b === 0xcd && at + 2 < bytes.length) return view.getUint16(at + 1)
  if (b === 0xce && at + 4 < bytes.length) return view.getUint32(at + 1)
  return 0
}
