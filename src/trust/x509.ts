// The x509 and WebCrypto plumbing under certs.ts: the library loaded on first use, keys, serial numbers, PEM, the
// root key as a signer, the subject's DER bytes, and errors that never quote key material.
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto'

/** A certificate problem; its message never holds key material (library errors are replaced, not wrapped). */
export class CertError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CertError'
  }
}

type X509Module = typeof import('@peculiar/x509')

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const
export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const
/** Makefile.selfsigned.mk: keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign. */
export const CA_KEY_USAGE = 1 | 2 | 4 | 32 // KeyUsageFlags digitalSignature | nonRepudiation | keyEncipherment | keyCertSign

let x509Loaded: Promise<X509Module> | undefined

/** Loaded on first use, so runs that only check certificates do not pay for the library. */
export function loadX509(): Promise<X509Module> {
  x509Loaded ??= (async () => {
    // @peculiar/x509 registers its algorithms with tsyringe, which needs the Reflect metadata API.
    await import(/* webpackMode: "eager" */ 'reflect-metadata')
    // eager: ncc (webpack) keeps the library in the one bundle file instead of emitting a separate chunk
    return await import(/* webpackMode: "eager" */ '@peculiar/x509')
  })()
  return x509Loaded
}

/** Runs a generation step; errors other than CertError are replaced by generic text (a library error could quote input). */
export async function guard<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    if (error instanceof CertError) throw error
    const name = error instanceof Error && /^[A-Za-z]+$/.test(error.name) ? ` (${error.name})` : ''
    throw new CertError(`${what} failed${name}`)
  }
}

export function validityDays(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0 || value > 100 * 365)
    throw new CertError(`validityDays must be a number of days between 1 and 36500, got ${value}`)
  return value
}

export async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])
}

/** 16 random bytes, positive (high bit clear) and with no leading zero byte, as hex. */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0] & 0x7f) | 0x40
  return Buffer.from(bytes).toString('hex')
}

export async function exportPkcs8(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`
}

/** LF line endings and exactly one trailing newline, so PEMs concatenate cleanly. */
export function normalizePem(pem: string): string {
  return pem.replace(/\r\n?/g, '\n').trim() + '\n'
}

export function describeRoot(cert: X509Certificate): string {
  return `subject "${cert.subject.split('\n').join(', ')}", valid until ${cert.validTo}`
}

export function parseRootCertificate(pem: string): X509Certificate {
  const block = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/.exec(pem)?.[0]
  let cert: X509Certificate | undefined
  try {
    if (block) cert = new X509Certificate(block)
  } catch {
    // reported below
  }
  if (!cert) throw new CertError('the root CA certificate is not a PEM certificate')
  if (!cert.ca)
    throw new CertError(
      `the root CA certificate is not a CA certificate (basicConstraints CA:true is missing) (${describeRoot(cert)})`
    )
  return cert
}

interface RootSigner {
  pkcs8: Buffer
  importAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams
}

const NAMED_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** The root key as WebCrypto needs it, after checking that it is the key of the root certificate. */
export function rootSigner(keyPem: string, rootCert: X509Certificate): RootSigner {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' })
  } catch {
    throw new CertError(
      'the root CA private key could not be read (expected an unencrypted PEM key: PKCS#8, PKCS#1 RSA or SEC1 EC)'
    )
  }
  let matches = false
  try {
    const publicDer = createPublicKey(key).export({ type: 'spki', format: 'der' })
    matches = publicDer.equals(rootCert.publicKey.export({ type: 'spki', format: 'der' }))
  } catch {
    matches = false
  }
  if (!matches)
    throw new CertError(
      `the root CA private key does not belong to the root CA certificate (${describeRoot(rootCert)})`
    )
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' })
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return {
        pkcs8,
        importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
      }
    case 'ec': {
      const namedCurve = NAMED_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (!namedCurve)
        throw new CertError(
          `the root CA key uses an unsupported elliptic curve (${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}); use P-256, P-384 or P-521`
        )
      return { pkcs8, importAlgorithm: { name: 'ECDSA', namedCurve }, signingAlgorithm: ECDSA_SHA256 }
    }
    default:
      throw new CertError(
        `the root CA key type ${key.asymmetricKeyType ?? 'unknown'} is not supported; use RSA or ECDSA`
      )
  }
}

/**
 * The DER bytes of the subject Name in a certificate: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version,
 * serialNumber, signature, issuer, validity, subject, … } … }.
 */
export function tbsSubjectDer(certDer: Buffer): Uint8Array {
  const tlv = (at: number): { start: number; content: number; end: number } => {
    const first = certDer[at + 1]
    if (first === undefined) throw new CertError('the root CA certificate is truncated')
    let length = first
    let content = at + 2
    if (first & 0x80) {
      const count = first & 0x7f
      length = 0
      for (let i = 0; i < count; i++) length = length * 256 + certDer[content + i]
      content += count
    }
    if (content + length > certDer.length) throw new CertError('the root CA certificate is truncated')
    return { start: at, content, end: content + length }
  }
  const tbs = tlv(tlv(0).content)
  let at = tbs.content
  if (certDer[at] === 0xa0) at = tlv(at).end // [0] version
  for (let skip = 0; skip < 4; skip++) at = tlv(at).end // serialNumber, signature, issuer, validity
  const subject = tlv(at)
  return new Uint8Array(certDer.subarray(subject.start, subject.end))
}
