import { rootCertificates } from 'node:tls'

/**
 * What TLS connections to trackers trust: Node's usual public CAs plus `ca` (PEM), or the
 * default (undefined) when there is none — `ca` on its own would replace the public ones.
 */
export function trustedCas(ca: string | undefined): string[] | undefined {
  return ca === undefined ? undefined : [...rootCertificates, ca]
}
