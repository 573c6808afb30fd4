import express from 'express'
import type { NextFunction, Request, Response } from 'express'
import { ErrorCode } from '@shoal/protocol'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { dashboard } from '../dashboard/route.js'
import type { StatsSource } from '../tracker-stats.js'
import { fail } from './fail.js'
import { contentStatsRoute, statsRoute } from './stats-routes.js'

/**
 * The HTTP routes beside the WebSocket endpoint. /healthz, /stats, /metrics and the
 * dashboard are public; per-content figures (one content's, and the most-shared list in
 * /stats) need the tracker token, if one is set, as a bearer token.
 */
export function createHttpApp(source: StatsSource, metrics: Registry, token: string | undefined, logger: Logger): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' })
  })
  app.get('/stats', statsRoute(source, token))
  app.get('/stats/contents/:id', contentStatsRoute(source, token))
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.contentType).send(await metrics.metrics())
  })
  app.get('/', dashboard)
  app.use((_req, res) => fail(res, 404, ErrorCode.NOT_FOUND, 'no such route'))
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Express marks what the request itself got wrong (a path parameter that is not valid
    // percent-encoding): the client's fault, answered as such and not logged as the tracker's.
    const status = (err as { status?: unknown }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      logger.debug({ err, path: req.path }, 'bad http request')
      return fail(res, 400, ErrorCode.INVALID_ARGUMENT, 'the request is malformed')
    }
    logger.error({ err, path: req.path }, 'http request failed')
    fail(res, 500, ErrorCode.INTERNAL, 'internal error')
  })
  return app
}
