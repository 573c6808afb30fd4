import t from 'tap'
import { GroupCommit } from '../src/store/group-commit.js'

/** A commit that hands each batch to the test and finishes when the test says. */
function recorder() {
  const started: ((batch: number[]) => void)[] = []
  const arrived: number[][] = []
  let finish: () => void = () => undefined
  const commit = (items: number[]): Promise<void> => {
    const waiter = started.shift()
    if (waiter === undefined) arrived.push(items)
    else waiter(items)
    return new Promise((resolve) => (finish = resolve))
  }
  /** The next batch committed (or the one already waiting). */
  const nextBatch = (): Promise<number[]> => {
    const ready = arrived.shift()
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => started.push(resolve))
  }
  return { commit, nextBatch, finish: () => finish() }
}

t.test('one commit at a time; what arrives meanwhile goes into the next one', async (t) => {
  const { commit, nextBatch, finish } = recorder()
  const group = new GroupCommit(commit, () => 'all')
  const first = group.submit(1)
  t.same(await nextBatch(), [1], 'a lone item is committed at once')
  const later = [group.submit(2), group.submit(3)]
  finish()
  await first
  t.same(await nextBatch(), [2, 3], 'the two that waited share the next commit')
  finish()
  await Promise.all(later)
  await group.drained()
})

t.test('a failed commit fails the items in it, and the next commit still runs', async (t) => {
  let calls = 0
  const group = new GroupCommit<number>(async () => {
    if (calls++ === 0) throw new Error('disk full')
  }, () => 'all')
  await t.rejects(group.submit(1), { message: 'disk full' })
  await t.resolves(group.submit(2))
})

t.test('a batch is committed a group at a time, and a group that fails fails only its own items', async (t) => {
  let unblock: () => void = () => undefined
  const blocked = new Promise<void>((resolve) => (unblock = resolve))
  const commits: string[][] = []
  const group = new GroupCommit<string>(async (items) => {
    commits.push(items)
    if (items[0] === 'x') return blocked
    if (items.some((i) => i.startsWith('b'))) throw new Error('disk gone')
  }, (item) => item[0])
  const first = group.submit('x')
  // Submitted while the first commit runs: one batch, items of contents a and b.
  const later = Promise.allSettled(['a1', 'b1', 'a2'].map((i) => group.submit(i)))
  unblock()
  await first
  t.match(await later, [{ status: 'fulfilled' }, { status: 'rejected', reason: { message: 'disk gone' } }, { status: 'fulfilled' }])
  t.same(commits, [['x'], ['a1', 'a2'], ['b1']])
})
