import { InvalidArgumentError } from 'commander'

const POWERS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }

/** "20M" → 20 MiB: a byte count with an optional K, M or G suffix (powers of 1024). */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG]?)(?:i?B)?$/i.exec(text.trim())
  if (m === null) throw new InvalidArgumentError('expected a number of bytes with an optional K, M or G suffix, e.g. 20M')
  const exact = Number(m[1]) * POWERS[m[2].toUpperCase()]
  const value = Math.round(exact)
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('too large')
  // Rounded to 0 it would mean no limit at all: the opposite of a tiny one.
  if (exact > 0 && value === 0) throw new InvalidArgumentError('more than 0 but less than 1 byte: give at least 1')
  return value
}

export function parseInteger(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError('expected a whole number')
  return Number(text)
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`
}

/**
 * Time left at `bytesPerSecond`, as a person reads it ("42s", "3m05s", "2h10m"); with no
 * data flowing there is no estimate, only a wait ("waiting for a peer" when none is connected).
 */
export function formatEta(bytesLeft: number, bytesPerSecond: number, peers: number): string {
  if (bytesLeft <= 0) return '0s'
  if (!(bytesPerSecond > 0)) return peers === 0 ? 'waiting for a peer' : '–'
  const s = Math.ceil(bytesLeft / bytesPerSecond)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(s / 3600)
  return h >= 100 ? `${h}h` : `${h}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}
