/**
 * What makes `rarest` a correct answer: distinct wanted chunks that have holders, never
 * more holders than a later one, as many as there are (up to `limit`), and no unlisted
 * wanted chunk rarer than the last listed. Ties may come in any order. Returns the first
 * broken rule, or undefined.
 */
export function rarestProblem(availability: readonly number[], wanted: readonly boolean[], rarest: readonly number[], limit = 64): string | undefined {
  const candidates = wanted.flatMap((w, i) => (w && availability[i] > 0 ? [i] : []))
  if (new Set(rarest).size !== rarest.length) return 'a chunk is listed twice'
  if (rarest.some((c) => !wanted[c] || !(availability[c] > 0))) return 'a listed chunk is not wanted or has no holder'
  if (rarest.length !== Math.min(limit, candidates.length)) return `listed ${rarest.length}, expected ${Math.min(limit, candidates.length)}`
  for (let i = 1; i < rarest.length; i++) {
    if (availability[rarest[i - 1]] > availability[rarest[i]]) return 'not rarest first'
  }
  const last = rarest.length === 0 ? Infinity : availability[rarest[rarest.length - 1]]
  const listed = new Set(rarest)
  if (candidates.some((c) => !listed.has(c) && availability[c] < last)) return 'a rarer wanted chunk was left out'
  return undefined
}
