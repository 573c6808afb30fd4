import type { Request, Response } from 'express'
import { DASHBOARD_CSP, DASHBOARD_HTML } from './page.js'

/** GET /: the dashboard page, under a CSP that allows nothing else. */
export function dashboard(_req: Request, res: Response): void {
  res.set('content-security-policy', DASHBOARD_CSP).type('html').send(DASHBOARD_HTML)
}
