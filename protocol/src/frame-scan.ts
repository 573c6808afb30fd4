import { BadMessageError } from './errors.js'

export interface ScanLimits {
  /** Deepest array nesting accepted. */
  maxDepth: number
  /** Most array elements accepted, counted over the whole frame. */
  maxElements: number
}

/**
 * Walks the msgpack structure of an untrusted frame without allocating, before any
 * decoder sees it. It guarantees the decoder only meets what our messages use (nil,
 * booleans, integers, floats, strings, binaries and arrays: no maps, no extensions),
 * nested no deeper and holding no more elements than the limits, with every length
 * inside the frame and exactly one top-level value. That keeps garbage from causing
 * deep recursion, prototype tricks or large allocations in the decoder.
 */
export function scanFrame(bytes: Uint8Array, limits: ScanLimits): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = bytes.length
  let pos = 0
  let elements = 0
  // remaining[d] = values still expected at depth d; depth 0 is the single top-level value.
  const remaining: number[] = [1]

  const need = (n: number): void => {
    if (pos + n > end) throw new BadMessageError('truncated frame')
  }
  const skip = (n: number): void => {
    need(n)
    pos += n
  }
  const openArray = (length: number): void => {
    elements += length
    if (elements > limits.maxElements) throw new BadMessageError('too many elements in frame')
    if (length === 0) return
    // remaining holds the top-level slot plus one entry per open array, so this array's depth is remaining.length.
    if (remaining.length > limits.maxDepth) throw new BadMessageError('frame nested too deeply')
    // Every element needs at least one byte, so a length beyond the frame is a lie.
    if (length > end - pos) throw new BadMessageError('truncated frame')
    remaining.push(length)
  }

  while (remaining.length > 0) {
    if (remaining[remaining.length - 1] === 0) {
      remaining.pop()
      continue
    }
    remaining[remaining.length - 1]--
    need(1)
    const b = bytes[pos++]
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue // fixint, nil, bool
    if (b >= 0xa0 && b <= 0xbf) { skip(b & 0x1f); continue } // fixstr
    if (b >= 0x90 && b <= 0x9f) { openArray(b & 0x0f); continue } // fixarray
    switch (b) {
      case 0xcc: case 0xd0: skip(1); break
      case 0xcd: case 0xd1: skip(2); break
      case 0xce: case 0xd2: case 0xca: skip(4); break
      case 0xcf: case 0xd3: case 0xcb: skip(8); break
      case 0xc4: case 0xd9: need(1); pos += 1; skip(bytes[pos - 1]); break
      case 0xc5: case 0xda: need(2); pos += 2; skip(view.getUint16(pos - 2)); break
      case 0xc6: case 0xdb: need(4); pos += 4; skip(view.getUint32(pos - 4)); break
      case 0xdc: need(2); pos += 2; openArray(view.getUint16(pos - 2)); break
      case 0xdd: need(4); pos += 4; openArray(view.getUint32(pos - 4)); break
      default:
        throw new BadMessageError(`unsupported msgpack type 0x${b.toString(16)}`)
    }
  }
  if (pos !== end) throw new BadMessageError('trailing bytes after message')
}
