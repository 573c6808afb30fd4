import type { ErrorCode } from '@shoal/protocol'
import type { Response } from 'express'

/** An HTTP error as JSON with a stable code, like the WebSocket errors. */
export function fail(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ code, message })
}
