import { escapeControls } from './output.js'

/** One content's figures, as GET /stats/contents/:id gives them. */
export interface ContentFigures {
  peers: number
  seeders: number
  chunkCount: number
  availability: { min: number; mean: number }
  underReplicatedChunks: number
}

/**
 * GET /stats: figures by name, the cumulative totals (figures by name), and the most-shared
 * contents for token holders (content figures with `content` and `name`). Whatever a tracker
 * sends is checked as it is printed: a value of the wrong kind shows as "?" or is left out.
 */
export type TrackerFigures = Record<string, unknown>

/** The figures of GET /stats printed first, in order, with their labels. */
const FIGURE_ROWS: [label: string, key: string][] = [
  ['peers online', 'peersOnline'], ['contents', 'contents'], ['chunk replicas', 'chunkReplicas'], ['connections', 'connections'],
  ['messages/s', 'messagesPerSecond'], ['manifests', 'manifests'],
]

/** Rows of cells, every column but the last padded to its widest cell. */
export function alignRows(rows: string[][], indent = ''): string[] {
  const widths = rows.reduce<number[]>((w, row) => row.map((cell, i) => Math.max(w[i] ?? 0, cell.length)), [])
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd())
}

/** 1234567 → "1,234,567"; a figure the tracker did not send shows as "?". */
export function formatCount(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 2 }) : '?'
}

/** 93784 → "1d 2h 3m": the three largest units, leading ones only. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const units: [string, number][] = [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]]
  let rest = Math.floor(seconds)
  const parts: string[] = []
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || parts.length > 0 || size === 1) parts.push(`${count}${unit}`)
  }
  return parts.slice(0, 3).join(' ')
}

/** `rateLimited` → "rate limited". */
function words(key: string): string {
  return key.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Text from the tracker as printed: escaped, or "?" when it is not text. */
function trackerText(value: unknown, length = Infinity): string {
  return typeof value === 'string' ? escapeControls(value.slice(0, length)) : '?'
}

function availability(c: { availability?: unknown }): string {
  const a = isRecord(c.availability) ? c.availability : {}
  return `min ${formatCount(a.min)}, mean ${formatCount(a.mean)}`
}

export function formatTrackerStats(base: string, s: TrackerFigures): string {
  const lines = alignRows([
    ['tracker', base],
    ...FIGURE_ROWS.map(([label, key]) => [label, formatCount(s[key])]),
    ['uptime', formatDuration(Number(s.uptimeSeconds))],
  ])
  lines.push('', 'totals since the tracker\'s data folder was made')
  const totals = isRecord(s.totals) ? Object.entries(s.totals) : []
  lines.push(...alignRows(totals.map(([key, n]) => [escapeControls(words(key)), formatCount(n)]), '  '))
  const mostShared = Array.isArray(s.mostShared) ? s.mostShared.filter(isRecord) : []
  if (mostShared.length > 0) {
    lines.push('', 'most-shared contents')
    const header = ['content', 'peers', 'seeders', 'chunks', 'availability', 'name']
    lines.push(...alignRows([header, ...mostShared.map((c) => [
      trackerText(c.content, 12), formatCount(c.peers), formatCount(c.seeders), formatCount(c.chunkCount), availability(c),
      c.name === undefined ? '' : trackerText(c.name),
    ])], '  '))
  }
  return `${lines.join('\n')}\n`
}

export function formatContentStats(id: string, c: ContentFigures): string {
  return `${alignRows([
    ['content', id],
    ['peers', formatCount(c.peers)],
    ['seeders', formatCount(c.seeders)],
    ['chunks', formatCount(c.chunkCount)],
    ['availability', `${availability(c)} (holders per chunk)`],
    ['under-replicated chunks', formatCount(c.underReplicatedChunks)],
  ]).join('\n')}\n`
}
