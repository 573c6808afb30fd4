interface Waiter<T> {
  item: T
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Batches durable commits: at most one `commit` runs at a time, and everything submitted
 * while it runs goes into the next one. Under load one fdatasync covers many chunks;
 * when idle a lone chunk is committed at once.
 */
export class GroupCommit<T> {
  private queue: Waiter<T>[] = []
  private running = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly commit: (items: T[]) => Promise<void>) {}

  submit(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.kick()
    })
  }

  /** Resolves once nothing is queued or running. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private kick(): void {
    if (this.running) return
    if (this.queue.length === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake()
      return
    }
    this.running = true
    const batch = this.queue
    this.queue = []
    this.commit(batch.map((w) => w.item)).then(
      () => batch.forEach((w) => w.resolve()),
      (err) => batch.forEach((w) => w.reject(err)),
    ).finally(() => {
      this.running = false
      this.kick()
    })
  }
}
