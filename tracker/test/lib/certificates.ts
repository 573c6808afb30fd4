import { execFile, spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Why TLS tests cannot run here, or false when they can (node:crypto cannot make X.509 certificates). */
export const NO_OPENSSL = spawnSync('openssl', ['version']).status === 0 ? false : 'the openssl CLI is not installed: cannot make test certificates'

export interface TestPki {
  /** The throwaway CA certificate, PEM: what clients trust. */
  ca: string
  /** A server certificate for 127.0.0.1 and localhost signed by the CA, and its key (PEM), and their files. */
  cert: string
  key: string
  certFile: string
  keyFile: string
}

/** A throwaway CA and a server certificate it signed, made in `dir` with two openssl commands. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const file = (name: string): string => join(dir, name)
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc', '-days', '1']
  await run('openssl', ['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-subj', '/CN=shoal test CA'])
  await run('openssl', [
    'req', '-x509', ...ec, '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-keyout', file('server.key'), '-out', file('server.pem'),
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:FALSE',
  ])
  const [ca, cert, key] = await Promise.all(['ca.pem', 'server.pem', 'server.key'].map((name) => readFile(file(name), 'utf8')))
  return { ca, cert, key, certFile: file('server.pem'), keyFile: file('server.key') }
}
