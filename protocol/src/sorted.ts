/**
 * In `sorted` (ascending), the last index at or after `from` whose value is at most `value`,
 * given that `sorted[from]` is. Binary search, O(log n).
 */
export function lastAtOrBefore(sorted: ArrayLike<number>, value: number, from = 0): number {
  let lo = from
  let hi = sorted.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1
    if (sorted[mid] <= value) lo = mid
    else hi = mid - 1
  }
  return lo
}
