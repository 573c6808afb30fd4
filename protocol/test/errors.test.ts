import t from 'tap'
import {
  BadLinkError, BadManifestError, BadMessageError, ErrorCode, HashMismatchError, InvalidArgumentError, ShoalError,
  TooLargeError, UnsupportedVersionError, errorCodeOf, isErrorCode,
} from '../src/errors.js'

t.test('every error class carries its stable code and name', (t) => {
  const cases: [ShoalError, string, string][] = [
    [new BadMessageError('m'), ErrorCode.BAD_MESSAGE, 'BadMessageError'],
    [new TooLargeError('m'), ErrorCode.TOO_LARGE, 'TooLargeError'],
    [new UnsupportedVersionError('m'), ErrorCode.UNSUPPORTED_VERSION, 'UnsupportedVersionError'],
    [new HashMismatchError('m'), ErrorCode.HASH_MISMATCH, 'HashMismatchError'],
    [new BadManifestError('m'), ErrorCode.BAD_MANIFEST, 'BadManifestError'],
    [new BadLinkError('m'), ErrorCode.BAD_LINK, 'BadLinkError'],
    [new InvalidArgumentError('port', 'must be a number'), ErrorCode.INVALID_ARGUMENT, 'InvalidArgumentError'],
    [new ShoalError(ErrorCode.RATE_LIMITED, 'm'), ErrorCode.RATE_LIMITED, 'ShoalError'],
  ]
  for (const [err, code, name] of cases) {
    t.ok(err instanceof ShoalError && err instanceof Error, name)
    t.equal(err.code, code)
    t.equal(err.name, name)
    t.equal(errorCodeOf(err), code)
  }
  t.equal(new InvalidArgumentError('port', 'must be a number').message, 'port: must be a number', 'names the argument')
  t.end()
})

t.test('codes are recognised; anything else maps to ERR_INTERNAL', (t) => {
  for (const code of Object.values(ErrorCode)) {
    t.ok(isErrorCode(code), code)
    t.match(code, /^ERR_[A-Z_]+$/)
  }
  t.equal(new Set(Object.values(ErrorCode)).size, Object.values(ErrorCode).length, 'no two names share a code')
  for (const other of ['ERR_NOPE', 'bad_message', 42, undefined, null]) t.notOk(isErrorCode(other), String(other))
  t.equal(errorCodeOf(new Error('x')), ErrorCode.INTERNAL)
  t.equal(errorCodeOf('thrown string'), ErrorCode.INTERNAL)
  t.end()
})
