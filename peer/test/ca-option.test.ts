import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { rootCertificates } from 'node:tls'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ErrorCode } from '@shoal/protocol'
import { resolveOptions } from '../src/options.js'
import { trustedCas } from '../src/tracker/trusted-cas.js'
import { tempDir } from './helpers.js'

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))
/** Any real certificate will do for parsing. */
const CERT = rootCertificates[0]

t.test('ca: PEM certificates, checked when the options are', async (t) => {
  t.equal(resolveOptions({ ca: CERT }).ca, CERT)
  t.equal(resolveOptions({ ca: `${CERT}\n${rootCertificates[1]}\n` }).ca?.length, CERT.length + rootCertificates[1].length + 2, 'a bundle of several')
  t.equal(resolveOptions({}).ca, undefined)
  t.throws(() => resolveOptions({ ca: 'hello' }), { code: ErrorCode.INVALID_ARGUMENT, message: 'ca: no PEM certificate in it (-----BEGIN CERTIFICATE-----)' })
  t.throws(() => resolveOptions({ ca: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), { message: /^ca: a certificate in it does not parse: / })
  t.throws(() => resolveOptions({ ca: 42 as unknown as string }), { message: /^ca: no PEM certificate/ })
})

t.test('trusted CAs add to the public ones rather than replace them', async (t) => {
  t.equal(trustedCas(undefined), undefined, 'Node\'s default without one')
  const list = trustedCas(CERT)!
  t.equal(list.length, rootCertificates.length + 1)
  t.equal(list.at(-1), CERT)
})

t.test('shoal daemon --ca reads the file at start', async (t) => {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')
  const run = (ca: string) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, [CLI, 'daemon', '--data-dir', dir, '--port', '0', '--host', '127.0.0.1', '--ca', ca], { timeout: 30_000 }, (err, _out, stderr) => {
      resolve({ code: err === null ? 0 : (err.code as number), stderr })
    })
  })
  t.same(await run(join(dir, 'none.pem')), { code: 1, stderr: `shoal: cannot read --ca ${join(dir, 'none.pem')}: ENOENT: no such file or directory, open '${join(dir, 'none.pem')}'\n` })
  t.same(await run(join(dir, 'key.pem')), { code: 1, stderr: 'shoal: --ca (SHOAL_CA, "ca" in a config file): no PEM certificate in it (-----BEGIN CERTIFICATE-----)\n' })
})
