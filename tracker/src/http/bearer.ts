import type { Request } from 'express'
import { secretsEqual } from '../secret.js'

/** Whether the request may see per-content figures: no token is set, or it carries it as a bearer token. */
export function mayReadContents(req: Request, token: string | undefined): boolean {
  if (token === undefined) return true
  // The scheme is case-insensitive (RFC 9110 §11.1).
  const match = /^bearer +(.+)$/i.exec(req.get('authorization') ?? '')
  return secretsEqual(token, match?.[1])
}
