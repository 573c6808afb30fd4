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
    res.set('cache-control', 'no-store').json(body)
  }
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
    res.set('cache-control', 'no-store').json(stats)
  }
}
