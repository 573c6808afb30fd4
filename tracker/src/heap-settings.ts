import { setFlagsFromString } from 'node:v8'

/**
 * V8 garbage-collector settings for a tracker process, applied at run time by the
 * `shoal-tracker` command (and the benchmark's tracker host), so they hold however the
 * process is started. With 10,000 peers under load (`npm run bench -- tracker`) the peak RSS
 * was 291–339 MB with V8's defaults and 207–222 MB with these; at 1,000 connections they cost
 * about 4 % more CPU per message. Why each:
 * - The old generation may grow to 1.5 × what survived the last full collection, not V8's
 *   own factor (up to 4 × when collections are cheap, as here): under load, garbage promoted
 *   between two full collections is what makes the peak.
 * - No allocation-site pretenuring: after the burst of registers at start-up, V8 would
 *   allocate per-message objects of the same sites straight into the old generation,
 *   where they stay until the next full collection.
 */
export const TRACKER_HEAP_FLAGS: readonly string[] = ['--heap-growing-percent=50', '--no-allocation-site-pretenuring']

/** Applies TRACKER_HEAP_FLAGS to this process; both are read by V8 at each collection. */
export function applyTrackerHeapSettings(): readonly string[] {
  for (const flag of TRACKER_HEAP_FLAGS) setFlagsFromString(flag)
  return TRACKER_HEAP_FLAGS
}
