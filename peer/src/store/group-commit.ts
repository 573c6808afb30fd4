interface Waiter<T> {
  item: T
  resolve: () => void
  reject: (err: unknown) => void
}

/**
 * Batches durable commits: at most one batch is committed at a time, and everything
 * submitted meanwhile goes into the next one. Under load one fdatasync covers many chunks;
 * when idle a lone chunk is committed at once. A batch is committed a group (a content) at
 * a time, and each item settles with its own group's commit: one content's failure fails
 * no other's chunks.
 */
export class GroupCommit<T> {
  private queue: Waiter<T>[] = []
  private running = false
  private idleWaiters: (() => void)[] = []

  constructor(private readonly commit: (items: T[]) => Promise<void>, private readonly groupOf: (item: T) => unknown) {}

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
    void this.commitGroups(batch).finally(() => {
      this.running = false
      this.kick()
    })
  }

  private async commitGroups(batch: Waiter<T>[]): Promise<void> {
    const groups = new Map<unknown, Waiter<T>[]>()
    for (const w of batch) {
      const key = this.groupOf(w.item)
      const group = groups.get(key)
      if (group === undefined) groups.set(key, [w])
      else group.push(w)
    }
    for (const group of groups.values()) {
      await this.commit(group.map((w) => w.item)).then(
        () => group.forEach((w) => w.resolve()),
        (err) => group.forEach((w) => w.reject(err)),
      )
    }
  }
}
