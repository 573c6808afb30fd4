import express from 'express'
import type { NextFunction, Request, Response } from 'express'
import { ErrorCode, fromHex, toHex } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { dashboard } from './dashboard/route.js'
import { secretsEqual } from './secret.js'
import type { StatsBody, StatsSource } from './tracker-stats.js'

/**
 * The HTTP routes beside the WebSocket endpoint. /healthz, /stats, /metrics and the
 * dashboard are public; per-content statistics need the tracker token (if one is set)
 * as a bearer token.
 */
export function createHttpApp(source: StatsSource, metrics: Registry, token: string | undefined, logger: Logger): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/stats', async (_req, res) => {
    const body: StatsBody = { ...source.stats(), mostShared: await source.mostShared() }
    res.set('cache-control', 'no-store').json(body)
  })
  app.get('/stats/contents/:id', (req, res) => {
    if (token !== undefined && !secretsEqual(token, bearerOf(req))) {
      return fail(res.set('www-authenticate', 'Bearer'), 401, ErrorCode.AUTH, 'this route needs the tracker token as a bearer token')
    }
    const id = fromHex(String(req.params.id), 32)
    if (id === undefined) return fail(res, 400, ErrorCode.INVALID_ARGUMENT, 'content id must be 64 lowercase hex digits')
    const stats = source.contentStats(toHex(id))
    if (stats === undefined) return fail(res, 404, ErrorCode.NOT_FOUND, 'no peers and no manifest for this content')
    res.set('cache-control', 'no-store').json(stats)
  })
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.set('content-type', metrics.contentType).send(await metrics.metrics())
    } catch (err) {
      next(err)
    }
  })
  app.get('/', dashboard)
  app.use((_req, res) => fail(res, 404, ErrorCode.NOT_FOUND, 'no such route'))
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err, path: req.path }, 'http request failed')
    fail(res, 500, ErrorCode.INTERNAL, 'internal error')
  })
  return app
}

function bearerOf(req: Request): string | undefined {
  const match = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')
  return match?.[1]
}

function fail(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).json({ code, message })
}
