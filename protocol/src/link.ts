import { BadLinkError, ShoalError } from './errors.js'
import { fromHex, toHex } from './hash.js'
import { CONTENT_ID_BYTES } from './limits.js'
import { checkName } from './paths.js'

export const LINK_SCHEME = 'shoal:'
export const MAX_LINK_LENGTH = 8192
export const MAX_LINK_TRACKERS = 16

export interface ShareLink {
  content: Uint8Array
  /** Tracker base URLs (ws:// or wss://), in the order given. */
  trackers: string[]
  name?: string
}

/** Accepts ws:// and wss:// URLs with a host; returns the normalized form. */
export function normalizeTrackerUrl(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new BadLinkError(`tracker "${text}" is not a URL`)
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new BadLinkError(`tracker "${text}" must be a ws:// or wss:// URL`)
  if (url.hostname === '') throw new BadLinkError(`tracker "${text}" has no host`)
  if (url.username !== '' || url.password !== '') throw new BadLinkError('tracker URL may not carry credentials')
  url.hash = ''
  return url.href.replace(/\/$/, '')
}

export function formatLink(link: ShareLink): string {
  if (link.content.length !== CONTENT_ID_BYTES) throw new BadLinkError('content id must be 32 bytes')
  if (link.trackers.length > MAX_LINK_TRACKERS) throw new BadLinkError(`at most ${MAX_LINK_TRACKERS} trackers`)
  const params = new URLSearchParams()
  for (const tr of link.trackers) params.append('tr', normalizeTrackerUrl(tr))
  if (link.name !== undefined) {
    checkLinkName(link.name)
    params.append('name', link.name)
  }
  const query = params.toString()
  const text = `${LINK_SCHEME}${toHex(link.content)}${query ? `?${query}` : ''}`
  // parseLink refuses longer links, so never hand one out.
  if (text.length > MAX_LINK_LENGTH) throw new BadLinkError('link is too long')
  return text
}

export function parseLink(text: string): ShareLink {
  if (typeof text !== 'string' || text.length > MAX_LINK_LENGTH) throw new BadLinkError('link is too long')
  const trimmed = text.trim()
  if (!trimmed.startsWith(LINK_SCHEME)) throw new BadLinkError(`link must start with "${LINK_SCHEME}"`)
  const rest = trimmed.slice(LINK_SCHEME.length)
  const q = rest.indexOf('?')
  const idText = (q === -1 ? rest : rest.slice(0, q)).toLowerCase()
  const content = fromHex(idText, CONTENT_ID_BYTES)
  if (content === undefined) throw new BadLinkError('content id must be 64 hex digits')
  const params = new URLSearchParams(q === -1 ? '' : rest.slice(q + 1))
  const trackers = params.getAll('tr').map(normalizeTrackerUrl)
  if (trackers.length > MAX_LINK_TRACKERS) throw new BadLinkError(`at most ${MAX_LINK_TRACKERS} trackers`)
  const names = params.getAll('name')
  if (names.length > 1) throw new BadLinkError('only one name is allowed')
  const link: ShareLink = { content, trackers: [...new Set(trackers)] }
  if (names.length === 1) {
    checkLinkName(names[0])
    link.name = names[0]
  }
  return link
}

function checkLinkName(name: string): void {
  try {
    checkName(name)
  } catch (err) {
    throw new BadLinkError(`name: ${(err as ShoalError).message}`)
  }
}
