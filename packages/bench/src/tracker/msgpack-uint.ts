/** A msgpack unsigned integer at `at` (positive fixint, uint8, uint16 or uint32): how replies and requests are told apart without decoding them. */
export function readUint(data: Buffer, at: number): number {
  const b = data[at]
  if (b <= 0x7f) return b
  if (b === 0xcc) return data[at + 1]
  if (b === 0xcd) return data.readUInt16BE(at + 1)
  return data.readUInt32BE(at + 1)
}
