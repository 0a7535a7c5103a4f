import { X509Certificate } from 'node:crypto'

/**
 * Read-only checks on PEM certificates with node:crypto only (no key material is ever parsed here), for comparing the
 * mesh's root of trust with what a cluster already holds in its `cacerts` secret.
 */

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g

/** The CERTIFICATE blocks of a PEM text, in order (any other block, e.g. a private key, is skipped). */
export function pemCertificates(pem: string): string[] {
  return (pem.match(CERTIFICATE_BLOCK) ?? []).map((block) => block.replace(/\r\n?/g, '\n') + '\n')
}

/** Every certificate of a PEM text that node:crypto can parse; unparsable blocks are left out. */
function parseAll(pem: string): X509Certificate[] {
  const certs: X509Certificate[] = []
  for (const block of pemCertificates(pem)) {
    try {
      certs.push(new X509Certificate(block))
    } catch {
      // not a certificate node:crypto understands: treated as absent
    }
  }
  return certs
}

/** The first certificate of a PEM text, or undefined when there is none (or it does not parse). */
export function firstCertificate(pem: string): X509Certificate | undefined {
  const [first] = pemCertificates(pem)
  if (first === undefined) return undefined
  try {
    return new X509Certificate(first)
  } catch {
    return undefined
  }
}

/**
 * The root certificate(s) istiod would trust from a `cacerts` data map (values already base64-decoded), or undefined.
 * Like istiod (`detectSigningCABundle`), the kubernetes.io/tls form wins when `tls.crt` is present: its root is `ca.crt`;
 * otherwise the istiod form's `root-cert.pem`.
 */
export function rootOf(cacerts: Record<string, string>): string | undefined {
  const present = (key: string): string | undefined => {
    const value = Object.prototype.hasOwnProperty.call(cacerts, key) ? cacerts[key] : undefined
    return typeof value === 'string' && value.trim() !== '' ? value : undefined
  }
  if (present('tls.crt') !== undefined) return present('ca.crt')
  return present('root-cert.pem')
}

/**
 * Whether the first certificate of `certPem` was issued by, and carries a valid signature of, a certificate of `rootPem`
 * (node:crypto `checkIssued` + `verify` with that certificate's public key), or is itself one of those certificates.
 * `rootPem` may be a bundle (root-cert.pem holds several roots during a root rotation): any of its certificates counts.
 * Unparsable input gives false.
 */
export function chainsTo(certPem: string, rootPem: string): boolean {
  const cert = firstCertificate(certPem)
  if (cert === undefined) return false
  for (const root of parseAll(rootPem)) {
    if (cert.fingerprint256 === root.fingerprint256) return true
    try {
      if (cert.checkIssued(root) && cert.verify(root.publicKey)) return true
    } catch {
      // a key type node:crypto cannot verify with: not a match
    }
  }
  return false
}

/** Whether the first certificates of two PEM texts are the same certificate (SHA-256 fingerprint); false if either is unparsable. */
export function sameCertificate(aPem: string, bPem: string): boolean {
  const a = firstCertificate(aPem)
  const b = firstCertificate(bPem)
  return a !== undefined && b !== undefined && a.fingerprint256 === b.fingerprint256
}

/**
 * A one-line description of the first certificate for messages:
 * `subject "O=Istio, CN=Root CA", SHA-256 AB:CD:EF:01:23:45:67:89…, valid until 2035-01-01T00:00:00.000Z`.
 * Only the certificate is read, so no key material can appear even if the PEM text also holds a private key.
 */
export function describeCert(pem: string): string {
  const cert = firstCertificate(pem)
  if (cert === undefined) return 'no parsable certificate'
  const subject = cert.subject
    .split('\n')
    .filter((part) => part !== '')
    .join(', ')
  const fingerprint = cert.fingerprint256.split(':').slice(0, 8).join(':')
  const validTo = new Date(cert.validTo)
  const until = Number.isNaN(validTo.getTime()) ? cert.validTo : validTo.toISOString()
  return `subject "${subject}", SHA-256 ${fingerprint}…, valid until ${until}`
}

/** A certificate's validity window; undefined when the PEM has no parsable certificate. */
export interface Validity {
  notBefore: Date
  notAfter: Date
  /** One-line description of the certificate (describeCert). */
  description: string
}

function validityOf(cert: X509Certificate, pem: string): Validity {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo), description: describeCert(pem) }
}

/** The validity of the first certificate of a PEM text. */
export function certValidity(pem: string): Validity | undefined {
  const cert = firstCertificate(pem)
  return cert && validityOf(cert, pem)
}

/**
 * The CA certificate of a `cacerts` that expires first, roots left out: the signing certificate (`ca-cert.pem`, or
 * `tls.crt`) and the intermediates of `cert-chain.pem`. istiod verifies every one of them at start
 * (security/pkg/pki/util/keycertbundle.go Verify, Go's x509 at the current time) and refuses to start past any
 * notAfter. Undefined when the signing certificate does not parse.
 */
export function intermediateValidity(cacerts: Record<string, string>): Validity | undefined {
  const tls = typeof cacerts['tls.crt'] === 'string' && cacerts['tls.crt'].trim() !== ''
  const signing = (tls ? cacerts['tls.crt'] : cacerts['ca-cert.pem']) ?? ''
  const first = firstCertificate(signing)
  if (!first) return undefined
  let earliest = validityOf(first, signing)
  for (const block of pemCertificates(tls ? '' : (cacerts['cert-chain.pem'] ?? ''))) {
    const cert = parseAll(block)[0]
    // A self-signed certificate in the chain is the root: its expiry is the root's, reported apart.
    if (!cert || cert.checkIssued(cert)) continue
    const v = validityOf(cert, block)
    if (v.notAfter < earliest.notAfter) earliest = v
  }
  return earliest
}
