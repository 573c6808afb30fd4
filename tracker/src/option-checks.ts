import { InvalidArgumentError } from '@shoal/protocol'

/** Returns `value ?? fallback` after checking it is an integer in [min, max]; names the option otherwise. */
export function intOption(name: string, value: number | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${String(value)}`)
  }
  return v
}
