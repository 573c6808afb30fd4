import { createServer } from 'node:http'
import type { Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { Server as HttpsServer } from 'node:https'
import type { TrackerConfig } from './config.js'

/** The one server the WebSocket endpoint and the HTTP routes share. */
export type Listener = HttpServer | HttpsServer

/**
 * Plain HTTP, or HTTPS when the config has a certificate: then `wss://` and `https://`
 * share the port. A TLS handshake gets no longer than a register would (a client that
 * cannot finish it in that time could not have registered either); Node's default is 2 min.
 */
export function createListener(config: TrackerConfig): Listener {
  if (config.tls === undefined) return createServer()
  const server = createHttpsServer({ ...config.tls, handshakeTimeout: config.registerTimeoutMs })
  server.on('tlsClientError', (err) => config.logger.debug({ err }, 'tls handshake failed'))
  return server
}
