/**
 * Every error Shoal raises across a boundary carries a stable `code`. Callers and
 * tests match on the code, never on the message text. The same codes travel on
 * the wire inside `error` replies.
 */
export const ErrorCode = {
  BAD_MESSAGE: 'ERR_BAD_MESSAGE',
  TOO_LARGE: 'ERR_TOO_LARGE',
  UNSUPPORTED_VERSION: 'ERR_UNSUPPORTED_VERSION',
  AUTH: 'ERR_AUTH',
  NOT_FOUND: 'ERR_NOT_FOUND',
  HASH_MISMATCH: 'ERR_HASH_MISMATCH',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  NOT_REGISTERED: 'ERR_NOT_REGISTERED',
  LIMIT_EXCEEDED: 'ERR_LIMIT_EXCEEDED',
  OUT_OF_RANGE: 'ERR_OUT_OF_RANGE',
  BUSY: 'ERR_BUSY',
  BAD_LINK: 'ERR_BAD_LINK',
  BAD_MANIFEST: 'ERR_BAD_MANIFEST',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  INTERNAL: 'ERR_INTERNAL',
  NO_SPACE: 'ERR_NO_SPACE',
  TIMEOUT: 'ERR_TIMEOUT',
  UNREACHABLE: 'ERR_UNREACHABLE',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode))

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value)
}

export class ShoalError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'ShoalError'
  }
}

export class BadMessageError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.BAD_MESSAGE, message)
    this.name = 'BadMessageError'
  }
}

export class TooLargeError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.TOO_LARGE, message)
    this.name = 'TooLargeError'
  }
}

export class UnsupportedVersionError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.UNSUPPORTED_VERSION, message)
    this.name = 'UnsupportedVersionError'
  }
}

export class HashMismatchError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.HASH_MISMATCH, message)
    this.name = 'HashMismatchError'
  }
}

export class BadManifestError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.BAD_MANIFEST, message)
    this.name = 'BadManifestError'
  }
}

export class BadLinkError extends ShoalError {
  constructor(message: string) {
    super(ErrorCode.BAD_LINK, message)
    this.name = 'BadLinkError'
  }
}

/** `argument` names what was refused and `reason` says why, so a caller can name it otherwise. */
export class InvalidArgumentError extends ShoalError {
  constructor(readonly argument: string, readonly reason: string) {
    super(ErrorCode.INVALID_ARGUMENT, `${argument}: ${reason}`)
    this.name = 'InvalidArgumentError'
  }
}

/** Narrows anything thrown to a code, so callers can report unknown failures uniformly. */
export function errorCodeOf(err: unknown): ErrorCode {
  return err instanceof ShoalError ? err.code : ErrorCode.INTERNAL
}
