import type { FrameKind } from './fault-fuzz.js'

/** Violations kept verbatim in a report; the rest are only counted. */
const KEEP_VIOLATIONS = 20

/** What a fuzzer sent and saw, reported as one JSON line when it is done. */
export class FuzzTally {
  frames = 0
  bytes = 0
  connections = 0
  readonly byKind: Partial<Record<FrameKind | 'cut' | 'overlong', number>> = {}
  /** How connections ended: a close code (tracker), or who hung up (peer wire). */
  readonly closes: Record<string, number> = {}
  readonly errorCodes: Record<string, number> = {}
  readonly replies: Record<string, number> = {}
  piecesVerified = 0
  violationCount = 0
  readonly violations: string[] = []

  count(kind: FrameKind | 'cut' | 'overlong', bytes: number): void {
    this.frames++
    this.bytes += bytes
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1
  }

  reply(type: string): void {
    this.replies[type] = (this.replies[type] ?? 0) + 1
  }

  violation(what: string): void {
    this.violationCount++
    if (this.violations.length < KEEP_VIOLATIONS) this.violations.push(what)
  }
}
