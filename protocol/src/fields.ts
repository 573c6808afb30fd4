import { BadMessageError, ErrorCode, UnsupportedVersionError } from './errors.js'
import { MAX_ERROR_CODE_BYTES, PROTOCOL_VERSION } from './limits.js'

/**
 * A field validator takes a decoded, still untrusted value and returns it typed, or
 * throws the project's typed error naming the field. One per kind of field, shared by
 * every message schema.
 */
export interface Field<T> {
  (value: unknown, name: string): T
  /** Turns the in-memory value into its wire form; absent where they are the same. */
  encode?: (value: T) => unknown
}

const utf8 = new TextEncoder()

export function uint(max: number): Field<number> {
  return (value, name) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw new BadMessageError(`${name} must be an integer from 0 to ${max}`)
    }
    return value
  }
}

export function fraction(): Field<number> {
  return (value, name) => {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new BadMessageError(`${name} must be a number from 0 to 1`)
    }
    return value
  }
}

export function flag(): Field<boolean> {
  return (value, name) => {
    if (typeof value !== 'boolean') throw new BadMessageError(`${name} must be true or false`)
    return value
  }
}

export function version(): Field<number> {
  return (value, name) => {
    const v = uint(0xffff)(value, name)
    if (v !== PROTOCOL_VERSION) {
      throw new UnsupportedVersionError(`protocol version ${v} is not supported (this side speaks ${PROTOCOL_VERSION})`)
    }
    return v
  }
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}

export function bytesExactly(length: number): Field<Uint8Array> {
  return (value, name) => {
    if (!isBytes(value) || value.length !== length) {
      throw new BadMessageError(`${name} must be ${length} bytes`)
    }
    return value
  }
}

export function bytesUpTo(max: number): Field<Uint8Array> {
  return (value, name) => {
    if (!isBytes(value) || value.length > max) {
      throw new BadMessageError(`${name} must be binary of at most ${max} bytes`)
    }
    return value
  }
}

export function text(maxBytes: number, pattern?: RegExp): Field<string> {
  return (value, name) => {
    // A UTF-8 string is never shorter in bytes than in UTF-16 code units, so check cheaply first.
    if (typeof value !== 'string' || value.length > maxBytes || utf8.encode(value).length > maxBytes) {
      throw new BadMessageError(`${name} must be a string of at most ${maxBytes} bytes`)
    }
    if (pattern !== undefined && !pattern.test(value)) {
      throw new BadMessageError(`${name} is not in the expected form`)
    }
    return value
  }
}

/** Error codes on the wire: any well-formed code, so newer codes from newer peers still pass. */
export function errorCode(): Field<string> {
  return text(MAX_ERROR_CODE_BYTES, new RegExp(`^ERR_[A-Z0-9_]{1,${MAX_ERROR_CODE_BYTES - 'ERR_'.length}}$`))
}

export function optional<T>(field: Field<T>): Field<T | undefined> {
  const check: Field<T | undefined> = (value, name) =>
    value === null || value === undefined ? undefined : field(value, name)
  const inner = field.encode
  check.encode = (value) => (value === undefined ? null : inner ? inner(value) : value)
  return check
}

export function listOf<T>(item: Field<T>, max: number): Field<T[]> {
  const check: Field<T[]> = (value, name) => {
    if (!Array.isArray(value)) throw new BadMessageError(`${name} must be a list`)
    if (value.length > max) throw new BadMessageError(`${name} holds more than ${max} items`)
    const out = new Array<T>(value.length)
    for (let i = 0; i < value.length; i++) out[i] = item(value[i], name)
    return out
  }
  const inner = item.encode
  if (inner) check.encode = (value) => value.map(inner)
  return check
}

/** A fixed-order tuple on the wire, an object in memory. */
export type RecordSpec<T> = { readonly [K in keyof T]-?: Field<T[K]> }

/** A record's validator, its encoder, and `fill`, which validates the fields found in `list` from `from` on into `into`. */
export type RecordField<T> = Field<T> & {
  encode: (value: T) => unknown[]
  fill: (into: Record<string, unknown>, list: unknown[], from: number, name: string) => void
}

export function record<T extends object>(spec: RecordSpec<T>): RecordField<T> {
  const names = Object.keys(spec) as (keyof T & string)[]
  const checks = names.map((key) => spec[key] as Field<unknown>)
  const encoders = names.map((key) => spec[key].encode as ((v: unknown) => unknown) | undefined)
  // Field labels for error messages per record name (a message type, or the list a record sits in): built once, not per decode.
  const labels = new Map<string, string[]>()
  const labelsFor = (name: string): string[] => {
    let found = labels.get(name)
    if (found === undefined) labels.set(name, (found = names.map((key) => `${name}.${key}`)))
    return found
  }
  const fill = (into: Record<string, unknown>, list: unknown[], from: number, name: string): void => {
    if (list.length - from !== names.length) throw new BadMessageError(`${name} must be a list of ${names.length} fields`)
    const label = labelsFor(name)
    for (let i = 0; i < names.length; i++) into[names[i]] = checks[i](list[from + i], label[i])
  }
  const check = ((value: unknown, name: string): T => {
    if (!Array.isArray(value)) throw new BadMessageError(`${name} must be a list of ${names.length} fields`)
    const out = {}
    fill(out, value, 0, name)
    return out as T
  }) as RecordField<T>
  check.fill = fill
  check.encode = (value) => {
    const out = new Array<unknown>(names.length)
    for (let i = 0; i < names.length; i++) {
      const v = value[names[i]]
      const enc = encoders[i]
      out[i] = enc ? enc(v) : v === undefined ? null : v
    }
    return out
  }
  return check
}

export { ErrorCode }
