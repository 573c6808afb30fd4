import { Packr, Unpackr } from 'msgpackr'
import { BadMessageError, ShoalError, TooLargeError } from './errors.js'
import { record } from './fields.js'
import type { RecordField, RecordSpec } from './fields.js'
import { scanFrame } from './frame-scan.js'
import { MAX_DEPTH, MAX_ELEMENTS } from './limits.js'

/** How one message type travels: `[code, ...fields in declaration order]`. */
export interface MessageSchema<M extends { type: string }> {
  type: M['type']
  code: number
  body: RecordField<Omit<M, 'type'>>
  /** Largest frame of this type; the codec's own cap applies when absent. */
  maxBytes?: number
  /** Whether the first field is a request id, which a decode failure then reports. */
  hasRequestId?: boolean
}

export function defineMessage<M extends { type: string }>(
  type: M['type'], code: number, fields: RecordSpec<Omit<M, 'type'>>, maxBytes?: number,
): MessageSchema<M> {
  return { type, code, body: record(fields), maxBytes, hasRequestId: Object.keys(fields)[0] === 'id' }
}

/** A decode failure keeps the request id when the frame got far enough to show one. */
export class FrameError extends ShoalError {
  constructor(cause: ShoalError, readonly requestId: number | undefined) {
    super(cause.code, cause.message, { cause })
    this.name = 'FrameError'
  }
}

// Plain arrays, no records or shared structures: frames must decode on their own, and
// the positional layout is already as compact as msgpack gets.
const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' })

/**
 * Encodes and decodes one protocol's discriminated union. `decode` takes untrusted
 * bytes and either returns a fully validated message or throws a FrameError carrying
 * one of the project's codes; it never throws anything else.
 */
export class Codec<M extends { type: string }> {
  private readonly byType = new Map<string, MessageSchema<M>>()
  private readonly byCode: (MessageSchema<M> | undefined)[] = []

  constructor(readonly name: string, schemas: MessageSchema<any>[], readonly maxFrame: number) {
    for (const s of schemas) {
      if (this.byType.has(s.type) || this.byCode[s.code]) throw new Error(`duplicate message ${s.type}/${s.code}`)
      if (s.code < 1 || s.code > 127) throw new Error(`message code ${s.code} must be a positive fixint`)
      this.byType.set(s.type, s)
      this.byCode[s.code] = s
    }
  }

  get types(): string[] {
    return [...this.byType.keys()]
  }

  encode(msg: M): Uint8Array {
    const s = this.byType.get(msg.type)
    if (s === undefined) throw new BadMessageError(`unknown ${this.name} message type ${msg.type}`)
    const body = s.body.encode(msg) as unknown[]
    body.unshift(s.code)
    return packr.pack(body)
  }

  decode(bytes: Uint8Array): M {
    let requestId: number | undefined
    try {
      if (!(bytes instanceof Uint8Array)) throw new BadMessageError('frame must be binary')
      if (bytes.length > this.maxFrame) throw new TooLargeError(`frame of ${bytes.length} bytes exceeds ${this.maxFrame}`)
      const s = this.byCode[peekCode(bytes)]
      if (s === undefined) throw new BadMessageError(`unknown ${this.name} message type`)
      if (s.hasRequestId) requestId = peekRequestId(bytes)
      if (s.maxBytes !== undefined && bytes.length > s.maxBytes) {
        throw new TooLargeError(`${s.type} frame of ${bytes.length} bytes exceeds ${s.maxBytes}`)
      }
      scanFrame(bytes, { maxDepth: MAX_DEPTH, maxElements: MAX_ELEMENTS })
      // The top level is an array (peekCode saw its header); its fields follow the type code.
      const wire = unpackr.unpack(bytes) as unknown[]
      const msg: Record<string, unknown> = { type: s.type }
      s.body.fill(msg, wire, 1, s.type)
      return msg as M
    } catch (err) {
      const typed = err instanceof ShoalError ? err : new BadMessageError(`undecodable frame: ${(err as Error)?.message ?? err}`)
      throw new FrameError(typed, requestId)
    }
  }
}

/** The type code is the first element of the top-level array; reading it costs two bytes. */
function peekCode(bytes: Uint8Array): number {
  let at: number
  if (bytes[0] >= 0x91 && bytes[0] <= 0x9f) at = 1
  else if (bytes[0] === 0xdc) at = 3
  else throw new BadMessageError('frame must be a non-empty msgpack array')
  if (at >= bytes.length) throw new BadMessageError('truncated frame')
  const code = bytes[at]
  if (code > 0x7f) throw new BadMessageError('message type code must be a small positive integer')
  return code
}

/**
 * The request id, read straight from the bytes after the type code, so that a frame
 * refused for its size, structure or any field (or not decoded at all: over the rate
 * limit) still names the request it answers. Only a top-level array of at least two
 * elements led by a fixint type code, and the unsigned integer forms an encoder writes,
 * count; anything else has no id.
 */
export function peekRequestId(bytes: Uint8Array): number | undefined {
  const long = bytes[0] === 0xdc
  if (!long && !(bytes[0] >= 0x92 && bytes[0] <= 0x9f)) return undefined
  const length = long ? (bytes[1] << 8) | bytes[2] : bytes[0] & 0x0f
  let at = long ? 3 : 1
  if (length < 2 || at + 1 >= bytes.length || bytes[at] > 0x7f) return undefined
  const head = bytes[++at]
  at++
  if (head <= 0x7f) return head
  const size = head === 0xcc ? 1 : head === 0xcd ? 2 : head === 0xce ? 4 : 0
  if (size === 0 || at + size > bytes.length) return undefined
  let id = 0
  for (let i = 0; i < size; i++) id = id * 256 + bytes[at + i]
  return id
}
