import { escapeControls } from './output.js'

/** One content's figures, as GET /stats/contents/:id gives them. */
export interface ContentFigures {
  peers: number
  seeders: number
  chunkCount: number
  availability: { min: number; mean: number }
  underReplicatedChunks: number
}

/** GET /stats: figures by name, the cumulative totals, and the most-shared contents for token holders. */
export type TrackerFigures = Record<string, unknown> & {
  totals?: Record<string, number>
  mostShared?: (ContentFigures & { content: string; name?: string })[]
}

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

function availability(c: ContentFigures): string {
  return `min ${formatCount(c.availability?.min)}, mean ${formatCount(c.availability?.mean)}`
}

export function formatTrackerStats(base: string, s: TrackerFigures): string {
  const lines = alignRows([
    ['tracker', base],
    ...FIGURE_ROWS.map(([label, key]) => [label, formatCount(s[key])]),
    ['uptime', formatDuration(Number(s.uptimeSeconds))],
  ])
  lines.push('', 'totals since the tracker\'s data folder was made')
  lines.push(...alignRows(Object.entries(s.totals ?? {}).map(([key, n]) => [words(key), formatCount(n)]), '  '))
  if (s.mostShared !== undefined && s.mostShared.length > 0) {
    lines.push('', 'most-shared contents')
    const header = ['content', 'peers', 'seeders', 'chunks', 'availability', 'name']
    lines.push(...alignRows([header, ...s.mostShared.map((c) => [
      c.content.slice(0, 12), formatCount(c.peers), formatCount(c.seeders), formatCount(c.chunkCount), availability(c), escapeControls(c.name ?? ''),
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
