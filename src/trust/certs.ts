import { createPrivateKey, createPublicKey, webcrypto, X509Certificate, type KeyObject } from 'node:crypto'
import { CACERTS_SECRET, ISTIO_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL } from '../istio-names.js'
import { type KubeObject } from '../manifests/kubernetes.js'

/**
 * The mesh's shared root of trust, as Istio's "Plug in CA certificates" task and tools/certs/Makefile.selfsigned.mk
 * build it: one self-signed root CA, one intermediate CA per cluster signed by it, and the `cacerts` secret istiod
 * reads its signing CA from. Keys are ECDSA P-256 (the Makefile's RSA 4096 costs seconds per key in WebCrypto);
 * a user-provided root may be RSA or ECDSA.
 */

export { certValidity, chainsTo, describeCert, intermediateValidity, pemCertificates, rootOf, sameCertificate, type Validity } from './chain.js'

/** PEM certificate + PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`). */
export interface CaBundle {
  certPem: string
  keyPem: string
}

/** The SAN of every intermediate (Makefile.selfsigned.mk `[ san ] DNS.1`). */
export const ISTIOD_SAN = `istiod.${ISTIO_NAMESPACE}.svc`

const ROOT_DAYS = 3650 // tools/certs/common.mk ROOTCA_DAYS
/**
 * tools/certs/common.mk (1.30.3) has INTERMEDIATE_DAYS 3650, as long as its root: a demo default. Ours is 2 years:
 * the intermediate key sits in cacerts, readable by whoever reads secrets in istio-system, and with ca: provided (the
 * root key off the cluster) its lifetime is how long a stolen one can mint identities. Every run re-issues an
 * intermediate within 30 days of its expiry (trust.ts), and the summary shows each expiry date.
 */
const INTERMEDIATE_DAYS = 730
const DAY_MS = 86_400_000
/** notBefore is set a little in the past, so a cluster whose clock lags the runner's still accepts the certificates. */
const BACKDATE_MS = 5 * 60_000

/** A certificate problem; its message never holds key material (library errors are replaced, not wrapped). */
export class CertError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CertError'
  }
}

/** A self-signed root CA: O=Istio, CN=Root CA (+ OU=<meshId>), CA:true, 10 years, ECDSA P-256 / SHA-256. */
export async function generateRoot(opts: { meshId?: string; validityDays?: number } = {}): Promise<CaBundle> {
  const days = validityDays(opts.validityDays, ROOT_DAYS)
  const meshId = opts.meshId
  if (meshId !== undefined && (meshId.length > 64 || /[\u0000-\u001f]/.test(meshId))) {
    throw new CertError(`mesh ID ${JSON.stringify(meshId.slice(0, 80))} cannot go into the root CA's subject (at most 64 characters, no control characters)`)
  }
  const name: Record<string, string[]>[] = [{ O: ['Istio'] }, { CN: ['Root CA'] }]
  if (meshId) name.push({ OU: [meshId] })
  return guard('generating the root CA', async () => {
    const x509 = await loadX509()
    const keys = await generateKeyPair()
    const notBefore = new Date(Date.now() - BACKDATE_MS)
    const cert = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: randomSerial(),
        name,
        notBefore,
        notAfter: new Date(notBefore.getTime() + BACKDATE_MS + days * DAY_MS),
        signingAlgorithm: ECDSA_SHA256,
        keys,
        extensions: [
          new x509.BasicConstraintsExtension(true, undefined, true),
          new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto)
        ]
      },
      webcrypto
    )
    return { certPem: normalizePem(cert.toString('pem')), keyPem: await exportPkcs8(keys.privateKey) }
  })
}

/**
 * A cluster's intermediate CA, signed by `root`: O=Istio, CN=Intermediate CA, L=<clusterName>, CA:true pathlen:0,
 * SAN DNS:istiod.istio-system.svc, 2 years (never past the root's notAfter). The root key may be RSA or ECDSA
 * (PKCS#8, PKCS#1 or SEC1 PEM); the intermediate key is always ECDSA P-256.
 */
export async function generateIntermediate(root: CaBundle, clusterName: string, opts: { validityDays?: number } = {}): Promise<CaBundle> {
  const days = validityDays(opts.validityDays, INTERMEDIATE_DAYS)
  if (clusterName.trim() === '' || clusterName.length > 128 || /[\u0000-\u001f]/.test(clusterName)) {
    throw new CertError(
      `cluster name ${JSON.stringify(clusterName.slice(0, 140))} cannot go into an intermediate CA's subject (1–128 characters, no control characters)`
    )
  }
  const rootCert = parseRootCertificate(root.certPem)
  const signer = rootSigner(root.keyPem, rootCert)
  const now = Date.now()
  const rootNotBefore = new Date(rootCert.validFrom).getTime()
  const rootNotAfter = new Date(rootCert.validTo).getTime()
  if (!(rootNotAfter > now)) throw new CertError(`the root CA has expired (${describeRoot(rootCert)})`)

  return guard(`generating the intermediate CA of cluster "${clusterName}"`, async () => {
    const x509 = await loadX509()
    const libRoot = new x509.X509Certificate(rootCert.raw)
    const keyUsage = libRoot.getExtension(x509.KeyUsagesExtension)
    if (keyUsage && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
      throw new CertError(`the root CA certificate's key usage does not allow signing certificates (keyCertSign) (${describeRoot(rootCert)})`)
    }
    if (libRoot.getExtension(x509.BasicConstraintsExtension)?.pathLength === 0) {
      throw new CertError(`the root CA certificate allows no CA below it (pathlen:0), so it cannot sign an intermediate CA (${describeRoot(rootCert)})`)
    }
    const rootSki =
      libRoot.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId ??
      (await x509.SubjectKeyIdentifierExtension.create(libRoot.publicKey, false, webcrypto)).keyId
    const signingKey = await webcrypto.subtle.importKey('pkcs8', signer.pkcs8, signer.importAlgorithm, false, ['sign'])
    const keys = await generateKeyPair()
    const notBefore = new Date(Math.max(now - BACKDATE_MS, rootNotBefore))
    const notAfter = new Date(Math.min(now + days * DAY_MS, rootNotAfter))
    const cert = await x509.X509CertificateGenerator.create(
      {
        serialNumber: randomSerial(),
        // The root's subject bytes as they are: Go's chain building (istiod, Envoy's peers) matches issuer to subject byte for byte.
        issuer: new x509.Name(tbsSubjectDer(rootCert.raw)),
        subject: [{ O: ['Istio'] }, { CN: ['Intermediate CA'] }, { L: [clusterName] }],
        notBefore,
        notAfter,
        publicKey: keys.publicKey,
        signingKey,
        signingAlgorithm: signer.signingAlgorithm,
        extensions: [
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
          new x509.AuthorityKeyIdentifierExtension(rootSki, false),
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(CA_KEY_USAGE, true),
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: ISTIOD_SAN }], false)
        ]
      },
      webcrypto
    )
    const certPem = normalizePem(cert.toString('pem'))
    // Self-check with node:crypto, independent of the library that built it.
    const built = new X509Certificate(certPem)
    if (!built.checkIssued(rootCert) || !built.verify(rootCert.publicKey)) {
      throw new CertError(`the intermediate CA of cluster "${clusterName}" does not verify against the root CA (${describeRoot(rootCert)})`)
    }
    return { certPem, keyPem: await exportPkcs8(keys.privateKey) }
  })
}

/** The `cacerts` files istiod reads (istiod file format); cert-chain.pem = intermediate + root. */
export function cacertsData(root: { certPem: string }, intermediate: CaBundle): Record<string, string> {
  const rootPem = normalizePem(root.certPem)
  const caCert = normalizePem(intermediate.certPem)
  return {
    'ca-cert.pem': caCert,
    'ca-key.pem': normalizePem(intermediate.keyPem),
    'root-cert.pem': rootPem,
    'cert-chain.pem': caCert + rootPem
  }
}

/** Secret istio-system/cacerts (`kubectl create secret generic cacerts --from-file=…`), as stringData. */
export function cacertsSecret(root: { certPem: string }, intermediate: CaBundle): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: CACERTS_SECRET, namespace: ISTIO_NAMESPACE, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    type: 'Opaque',
    stringData: cacertsData(root, intermediate)
  }
}

// ---------------------------------------------------------------------------------------------------------------------

type X509Module = typeof import('@peculiar/x509')

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const
/** Makefile.selfsigned.mk: keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign. */
const CA_KEY_USAGE = 1 | 2 | 4 | 32 // KeyUsageFlags digitalSignature | nonRepudiation | keyEncipherment | keyCertSign

let x509Loaded: Promise<X509Module> | undefined

/** Loaded on first use, so runs that only check certificates do not pay for the library. */
function loadX509(): Promise<X509Module> {
  x509Loaded ??= (async () => {
    // @peculiar/x509 registers its algorithms with tsyringe, which needs the Reflect metadata API.
    await import(/* webpackMode: "eager" */ 'reflect-metadata')
    // eager: ncc (webpack) keeps the library in the one bundle file instead of emitting a separate chunk
    return await import(/* webpackMode: "eager" */ '@peculiar/x509')
  })()
  return x509Loaded
}

/** Runs a generation step; errors other than CertError are replaced by generic text (a library error could quote input). */
async function guard<T>(what: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    if (error instanceof CertError) throw error
    const name = error instanceof Error && /^[A-Za-z]+$/.test(error.name) ? ` (${error.name})` : ''
    throw new CertError(`${what} failed${name}`)
  }
}

function validityDays(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0 || value > 100 * 365) throw new CertError(`validityDays must be a number of days between 1 and 36500, got ${value}`)
  return value
}

async function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair
}

/** 16 random bytes, positive (high bit clear) and with no leading zero byte, as hex. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0] & 0x7f) | 0x40
  return Buffer.from(bytes).toString('hex')
}

async function exportPkcs8(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key))
  const lines = der.toString('base64').match(/.{1,64}/g) ?? []
  return `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`
}

/** LF line endings and exactly one trailing newline, so PEMs concatenate cleanly. */
function normalizePem(pem: string): string {
  return pem.replace(/\r\n?/g, '\n').trim() + '\n'
}

function describeRoot(cert: X509Certificate): string {
  return `subject "${cert.subject.split('\n').join(', ')}", valid until ${cert.validTo}`
}

function parseRootCertificate(pem: string): X509Certificate {
  const block = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/.exec(pem)?.[0]
  let cert: X509Certificate | undefined
  try {
    if (block) cert = new X509Certificate(block)
  } catch {
    // reported below
  }
  if (!cert) throw new CertError('the root CA certificate is not a PEM certificate')
  if (!cert.ca) throw new CertError(`the root CA certificate is not a CA certificate (basicConstraints CA:true is missing) (${describeRoot(cert)})`)
  return cert
}

interface RootSigner {
  pkcs8: Buffer
  importAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams
  signingAlgorithm: webcrypto.Algorithm | webcrypto.EcdsaParams
}

const NAMED_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** The root key as WebCrypto needs it, after checking that it is the key of the root certificate. */
function rootSigner(keyPem: string, rootCert: X509Certificate): RootSigner {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: keyPem, format: 'pem' })
  } catch {
    throw new CertError('the root CA private key could not be read (expected an unencrypted PEM key: PKCS#8, PKCS#1 RSA or SEC1 EC)')
  }
  let matches = false
  try {
    const publicDer = createPublicKey(key).export({ type: 'spki', format: 'der' })
    matches = publicDer.equals(rootCert.publicKey.export({ type: 'spki', format: 'der' }))
  } catch {
    matches = false
  }
  if (!matches) throw new CertError(`the root CA private key does not belong to the root CA certificate (${describeRoot(rootCert)})`)
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' })
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { pkcs8, importAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } }
    case 'ec': {
      const namedCurve = NAMED_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
      if (!namedCurve)
        throw new CertError(
          `the root CA key uses an unsupported elliptic curve (${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}); use P-256, P-384 or P-521`
        )
      return { pkcs8, importAlgorithm: { name: 'ECDSA', namedCurve }, signingAlgorithm: ECDSA_SHA256 }
    }
    default:
      throw new CertError(`the root CA key type ${key.asymmetricKeyType ?? 'unknown'} is not supported; use RSA or ECDSA`)
  }
}

/**
 * The DER bytes of the subject Name in a certificate: Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version,
 * serialNumber, signature, issuer, validity, subject, … } … }.
 */
function tbsSubjectDer(certDer: Buffer): Uint8Array {
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
