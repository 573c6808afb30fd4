import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'

/**
 * The address a peer is reached at. Behind a trusted reverse proxy it is the last
 * X-Forwarded-For entry (the one that proxy appended; earlier ones are the client's own
 * claims) when it is an IP address; otherwise the socket's remote address. IPv4-mapped
 * IPv6 is shown as IPv4.
 */
export function observedAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const header = req.headers['x-forwarded-for']
    const value = Array.isArray(header) ? header[header.length - 1] : header
    const last = value?.split(',').pop()?.trim()
    if (last !== undefined && isIP(last) !== 0) return unmapped(last)
  }
  return unmapped(req.socket.remoteAddress ?? '')
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
