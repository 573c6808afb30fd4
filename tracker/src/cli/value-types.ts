import { isAbsolute, resolve } from 'node:path'

/**
 * How one setting's value is read: from a flag's or environment variable's text, or from
 * a config file, where JSON and YAML already give numbers and booleans. Both throw an
 * Error saying what is expected; callers add which setting it was.
 */
export interface ValueType<T> {
  /** Shown after the flag in --help: `<seconds>`, or `[bool]` for an optional value. */
  readonly placeholder: string
  /** The allowed values, when they are a fixed list. */
  readonly choices?: readonly string[]
  fromText(text: string): T
  /** `baseDir` is the config file's directory: relative paths in a file are relative to it. */
  fromConfig(value: unknown, baseDir: string): T
}

export function integer(min: number, max: number, placeholder = '<number>'): ValueType<number> {
  return numeric(placeholder, /^\d+$/, `must be an integer from ${min} to ${max}`, (n) => Number.isSafeInteger(n) && n >= min && n <= max)
}

const BYTE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }

/** A byte count, with an optional K, M, G or T (powers of 1024) as the peer's rates take: "4G". A config file may give the text or a number. */
export function bytes(min: number, max: number): ValueType<number> {
  const expected = `must be a whole number of bytes from ${min} to ${max}, with an optional K, M, G or T suffix (powers of 1024)`
  const fromText = (text: string): number => {
    const m = /^(\d+)([KMGT]?)$/i.exec(text.trim())
    const n = m === null ? NaN : Number(m[1]) * BYTE_UNITS[m[2].toUpperCase()]
    if (!(Number.isSafeInteger(n) && n >= min && n <= max)) throw new Error(expected)
    return n
  }
  return {
    placeholder: '<bytes>',
    fromText,
    fromConfig: (value) => fromText(typeof value === 'number' ? String(value) : typeof value === 'string' ? value : ''),
  }
}

/** Seconds, decimals allowed ("0.5"); whoever uses them rounds to milliseconds. */
export function seconds(min: number, max: number): ValueType<number> {
  return numeric('<seconds>', /^\d+(\.\d+)?$/, `must be a number of seconds from ${min} to ${max}`, (n) => n >= min && n <= max)
}

/** Text must match `pattern`; a config value must be a number; either must pass `ok`. */
function numeric(placeholder: string, pattern: RegExp, expected: string, ok: (n: number) => boolean): ValueType<number> {
  const check = (n: number): number => {
    if (!ok(n)) throw new Error(expected)
    return n
  }
  return {
    placeholder,
    fromText: (text) => check(pattern.test(text) ? Number(text) : NaN),
    fromConfig: (value) => check(typeof value === 'number' ? value : NaN),
  }
}

export const boolean: ValueType<boolean> = {
  placeholder: '[bool]',
  fromText(text) {
    if (/^(true|1|yes|on)$/i.test(text)) return true
    if (/^(false|0|no|off)$/i.test(text)) return false
    throw new Error('must be true or false')
  },
  fromConfig(value) {
    if (typeof value !== 'boolean') throw new Error('must be true or false')
    return value
  },
}

export function choice(placeholder: string, choices: readonly string[]): ValueType<string> {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !choices.includes(value)) throw new Error(`must be one of ${choices.join(', ')}`)
    return value
  }
  return { placeholder, choices, fromText: check, fromConfig: check }
}

export function text(placeholder: string): ValueType<string> {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || value === '') throw new Error('must be a non-empty string')
    return value
  }
  return { placeholder, fromText: check, fromConfig: check }
}

/** A file or directory name; in a config file, relative to the file's directory. */
export function path(placeholder: string): ValueType<string> {
  const name = text(placeholder)
  return {
    placeholder,
    fromText: name.fromText,
    fromConfig: (value, baseDir) => {
      const p = name.fromConfig(value, baseDir)
      return isAbsolute(p) ? p : resolve(baseDir, p)
    },
  }
}
