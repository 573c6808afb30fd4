import type { Request, Response } from 'express'
import { ErrorCode, fromHex, toHex } from '@shoal/protocol'
import type { StatsBody, StatsSource } from '../tracker-stats.js'
import { mayReadContents } from './bearer.js'
import { fail } from './fail.js'

type Route = (req: Request, res: Response) => Promise<void> | void

/**
 * GET /stats: public figures; the most-shared contents only where per-content figures may
 * be read (a tracker with a token keeps its content list to token holders).
 */
export function statsRoute(source: StatsSource, token: string | undefined): Route {
  return async (req, res) => {
    const body: StatsBody = { ...source.stats() }
    if (mayReadContents(req, token)) body.mostShared = await source.mostShared()
    sendJson(res, body)
  }
}

/**
 * Writes a JSON body straight to the socket: express's res.json would serialize it, hash it
 * for an ETag nobody may use (the figures are never cached) and look up the charset, which
 * costs more than building the figures.
 */
function sendJson(res: Response, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body))
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': bytes.length, 'cache-control': 'no-store' })
  res.end(bytes)
}

/** GET /stats/contents/:id: one content's figures. */
export function contentStatsRoute(source: StatsSource, token: string | undefined): Route {
  return (req, res) => {
    if (!mayReadContents(req, token)) {
      return fail(res.set('www-authenticate', 'Bearer'), 401, ErrorCode.AUTH, 'this route needs the tracker token as a bearer token')
    }
    const id = fromHex(String(req.params.id), 32)
    if (id === undefined) return fail(res, 400, ErrorCode.INVALID_ARGUMENT, 'content id must be 64 lowercase hex digits')
    const stats = source.contentStats(toHex(id))
    if (stats === undefined) return fail(res, 404, ErrorCode.NOT_FOUND, 'no peers and no manifest for this content')
    sendJson(res, stats)
  }
}
