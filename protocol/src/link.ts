import { BadLinkError, ShoalError } from './errors.js'
import { fromHex, toHex } from './hash.js'
import { CONTENT_ID_BYTES } from './limits.js'
import { checkName } from './paths.js'

export const LINK_SCHEME = 'shoal:'
export const MAX_LINK_LENGTH = 8192
export const MAX_LINK_TRACKERS = 16
export const MAX_LINK_PEERS = 16

/** A peer's wire address, as a link names it. */
export interface PeerAddress {
  host: string
  port: number
}

export interface ShareLink {
  content: Uint8Array
  /** Tracker base URLs (ws:// or wss://), in the order given. */
  trackers: string[]
  name?: string
  /** Peers to ask for the manifest and chunks directly; absent when the link names none. */
  peers?: PeerAddress[]
}

/** `host:port`; an IPv6 host in brackets. */
const PEER_ADDRESS = /^(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255}):([0-9]{1,5})$/

/** Parses `host:port` (brackets stripped from an IPv6 host). */
export function parsePeerAddress(text: string): PeerAddress {
  const m = PEER_ADDRESS.exec(text)
  const port = Number(m?.[2])
  if (m === null || port < 1 || port > 65535) throw new BadLinkError(`peer "${text}" must be host:port`)
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port }
}

export function formatPeerAddress(peer: PeerAddress): string {
  return `${peer.host.includes(':') ? `[${peer.host}]` : peer.host}:${peer.port}`
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
  const peers = link.peers ?? []
  if (peers.length > MAX_LINK_PEERS) throw new BadLinkError(`at most ${MAX_LINK_PEERS} peers`)
  for (const p of peers) params.append('peer', formatPeerAddress(parsePeerAddress(formatPeerAddress(p))))
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
  const peers = [...new Set(params.getAll('peer'))].map(parsePeerAddress)
  if (peers.length > MAX_LINK_PEERS) throw new BadLinkError(`at most ${MAX_LINK_PEERS} peers`)
  if (peers.length > 0) link.peers = peers
  return link
}

function checkLinkName(name: string): void {
  try {
    checkName(name)
  } catch (err) {
    throw new BadLinkError(`name: ${(err as ShoalError).message}`)
  }
}
