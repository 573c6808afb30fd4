/** Work keyed by what it is about: starting work for a key whose work is running joins that instead. */
export class InFlight<K, V = void> {
  private readonly running = new Map<K, Promise<V>>()

  run(key: K, work: () => Promise<V>): Promise<V> {
    let running = this.running.get(key)
    if (running === undefined) {
      running = work().finally(() => this.running.delete(key))
      this.running.set(key, running)
    }
    return running
  }
}
