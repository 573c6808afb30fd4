import t from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { MAX_QUEUED_CHECK_BYTES, ManifestChecker } from '../src/manifest-checker.js'
import { manifestBytes } from './lib/manifests.js'

t.test('manifests waiting for the check are bounded in bytes; a full queue answers busy until it drains', async (t) => {
  const checker = new ManifestChecker()
  t.teardown(() => checker.close())
  const piece = 8 * 1024 * 1024
  const fitting = Array.from({ length: MAX_QUEUED_CHECK_BYTES / piece }, () => checker.check(new Uint8Array(piece)).catch((err) => err.code))
  await t.rejects(checker.check(new Uint8Array(1)), { code: ErrorCode.BUSY }, 'one byte more is refused at once')
  t.same(await Promise.all(fitting), fitting.map(() => ErrorCode.BAD_MANIFEST), 'the queued ones were checked (and are not manifests)')
  const checked = await checker.check(manifestBytes(4, 'after.bin'))
  t.match(checked, { chunkCount: 4, name: 'after.bin' }, 'the drained queue takes checks again')
})
