/** Anything tests can register cleanups with: tap's `t` satisfies it. */
export interface Cleanup {
  teardown(fn: () => unknown): void
}

/** A Cleanup for scripts outside a test runner: `run()` undoes everything, newest first. */
export class CleanupStack implements Cleanup {
  private readonly fns: (() => unknown)[] = []

  teardown(fn: () => unknown): void {
    this.fns.push(fn)
  }

  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => undefined)
  }
}
