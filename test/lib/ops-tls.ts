import { writeFile } from 'node:fs/promises'
import type { IncomingHttpHeaders } from 'node:http'
import { get } from 'node:https'
import { join } from 'node:path'
import { findProgram, runProgram } from './ops-programs.js'

export interface TestCertificates {
  /** The throwaway CA's certificate (PEM): what clients must trust. */
  ca: string
  /** Server certificate for localhost and 127.0.0.1, signed by the CA, and its key. */
  cert: string
  key: string
}

/**
 * A throwaway CA and a server certificate it signs for localhost / 127.0.0.1, made with
 * the openssl CLI in `dir` (the same commands as the private-CA variant of
 * docs/deploy-tracker.md).
 */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const openssl = findProgram('openssl')!
  const out: TestCertificates = { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') }
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']
  const csr = join(dir, 'server.csr')
  const ext = join(dir, 'server.ext')
  await writeFile(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n')
  const steps = [
    ['req', '-x509', ...ec, '-keyout', join(dir, 'ca.key'), '-out', out.ca, '-days', '2', '-subj', '/CN=Shoal test CA'],
    ['req', ...ec, '-keyout', out.key, '-out', csr, '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', csr, '-CA', out.ca, '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', out.cert],
  ]
  for (const args of steps) {
    const r = await runProgram(openssl, args)
    if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`)
  }
  return out
}

export interface HttpsResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** GET over https trusting only `caPem` (the test process's own trust store stays as it is). */
export function httpsGet(url: string, caPem: string): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca: caPem, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`))).on('error', reject)
  })
}
