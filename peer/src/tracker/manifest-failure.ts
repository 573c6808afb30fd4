import { ErrorCode, ShoalError } from '@shoal/protocol'

/**
 * Which failure a manifest fetch reports when no tracker or peer gave the manifest: one that served a
 * wrong manifest, else one that could not be asked (the content may be there), else "not
 * known", else the first.
 */
const TELLING: ErrorCode[] = [ErrorCode.HASH_MISMATCH, ErrorCode.BAD_MANIFEST, ErrorCode.UNREACHABLE, ErrorCode.TIMEOUT, ErrorCode.NOT_FOUND]

/** One error naming every tracker's failure, with the code of the most telling one. */
export function manifestFailure(failures: ShoalError[]): ShoalError {
  const codes = failures.map((f) => f.code)
  const code = TELLING.find((c) => codes.includes(c)) ?? codes[0] ?? ErrorCode.NOT_FOUND
  const message = failures.length > 0 ? failures.map((f) => f.message).join('; ') : 'no tracker or peer to ask'
  return new ShoalError(code, message, { cause: failures[0] })
}
