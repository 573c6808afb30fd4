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

/**
 * The unit a per-address connection limit counts: an IPv4 address as is, an IPv6 address by
 * its /64 (one host, or one customer, usually holds a whole /64, so counting single
 * addresses would not limit anyone).
 */
export function addressGroup(address: string): string {
  const bare = address.split('%')[0]
  if (isIP(bare) !== 6) return address
  const [head, tail] = bare.split('::')
  const groups = (part: string | undefined): string[] => {
    if (part === undefined || part === '') return []
    // A trailing dotted quad fills the last two groups; it never reaches the /64.
    return part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]))
  }
  const front = groups(head)
  const back = groups(tail)
  const full = tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back]
  return `${full.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`
}
