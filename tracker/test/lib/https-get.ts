import { get } from 'node:https'

/** GET over https trusting only `ca`; resolves with the status and the body. */
export function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => resolve({ status: res.statusCode as number, body }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 5 s`)))
    req.on('error', reject)
  })
}
