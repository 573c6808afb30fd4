import { BadMessageError } from './errors.js'

export interface ScanLimits {
  /** Deepest array nesting accepted. */
  maxDepth: number
  /** Most array elements accepted, counted over the whole frame. */
  maxElements: number
}

/** Values still expected at each open depth; grown to the deepest limit seen (scans run one at a time). */
let remaining = new Int32Array(8)

/**
 * Walks the msgpack structure of an untrusted frame without allocating, before any
 * decoder sees it. It guarantees the decoder only meets what our messages use (nil,
 * booleans, integers, floats, strings, binaries and arrays: no maps, no extensions),
 * nested no deeper and holding no more elements than the limits, with every length
 * inside the frame and exactly one top-level value. That keeps garbage from causing
 * deep recursion, prototype tricks or large allocations in the decoder. It runs on every
 * frame, so it is one loop over plain locals: no closures, no views.
 */
export function scanFrame(bytes: Uint8Array, limits: ScanLimits): void {
  const { maxDepth, maxElements } = limits
  if (remaining.length <= maxDepth) remaining = new Int32Array(maxDepth + 1)
  const stack = remaining
  const end = bytes.length
  let pos = 0
  let elements = 0
  // stack[depth] = values still expected at that depth; depth 0 holds the single top-level value.
  let depth = 0
  stack[0] = 1
  for (;;) {
    if (stack[depth] === 0) {
      if (depth === 0) break
      depth--
      continue
    }
    stack[depth]--
    if (pos >= end) throw new BadMessageError('truncated frame')
    const b = bytes[pos++]
    // fixint, negative fixint, nil, booleans
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue
    let skip: number
    let array = -1
    if (b >= 0xa0 && b <= 0xbf) skip = b & 0x1f // fixstr
    else if (b >= 0x90 && b <= 0x9f) { skip = 0; array = b & 0x0f } // fixarray
    else {
      switch (b) {
        case 0xcc: case 0xd0: skip = 1; break
        case 0xcd: case 0xd1: skip = 2; break
        case 0xce: case 0xd2: case 0xca: skip = 4; break
        case 0xcf: case 0xd3: case 0xcb: skip = 8; break
        case 0xc4: case 0xd9:
          if (pos + 1 > end) throw new BadMessageError('truncated frame')
          skip = bytes[pos++]
          break
        case 0xc5: case 0xda: case 0xdc:
          if (pos + 2 > end) throw new BadMessageError('truncated frame')
          skip = (bytes[pos] << 8) | bytes[pos + 1]
          pos += 2
          break
        case 0xc6: case 0xdb: case 0xdd:
          if (pos + 4 > end) throw new BadMessageError('truncated frame')
          skip = bytes[pos] * 0x1000000 + ((bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3])
          pos += 4
          break
        default:
          throw new BadMessageError(`unsupported msgpack type 0x${b.toString(16)}`)
      }
      if (b === 0xdc || b === 0xdd) {
        array = skip
        skip = 0
      }
    }
    if (array < 0) {
      if (skip > end - pos) throw new BadMessageError('truncated frame')
      pos += skip
      continue
    }
    elements += array
    if (elements > maxElements) throw new BadMessageError('too many elements in frame')
    if (array === 0) continue
    // This array opens depth + 1 levels below the top-level slot.
    if (depth + 1 > maxDepth) throw new BadMessageError('frame nested too deeply')
    // Every element needs at least one byte, so a length beyond the frame is a lie.
    if (array > end - pos) throw new BadMessageError('truncated frame')
    stack[++depth] = array
  }
  if (pos !== end) throw new BadMessageError('trailing bytes after message')
}
