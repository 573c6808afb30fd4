import { ShoalError } from '@shoal/protocol'
import type { CloseCode, ErrorCode } from '@shoal/protocol'

/** A failure after whose error reply the connection is closed with `closeCode`. */
export class ClosingError extends ShoalError {
  constructor(code: ErrorCode, message: string, readonly closeCode: CloseCode) {
    super(code, message)
    this.name = 'ClosingError'
  }
}
