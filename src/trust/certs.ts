import { webcrypto, X509Certificate } from 'node:crypto'
import { CACERTS_SECRET, ISTIO_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL } from '../istio-names.js'
import { type KubeObject } from '../manifests/kubernetes.js'
import {
  CA_KEY_USAGE,
  CertError,
  describeRoot,
  ECDSA_SHA256,
  exportPkcs8,
  generateKeyPair,
  guard,
  loadX509,
  normalizePem,
  parseRootCertificate,
  randomSerial,
  rootSigner,
  tbsSubjectDer,
  validityDays
} from './x509.js'

/**
 * The mesh's shared root of trust, as Istio's "Plug in CA certificates" task and tools/certs/Makefile.selfsigned.mk
 * build it: one self-signed root CA, one intermediate CA per cluster signed by it, and the `cacerts` secret istiod
 * reads its signing CA from. Keys are ECDSA P-256 (the Makefile's RSA 4096 costs seconds per key in WebCrypto);
 * a user-provided root may be RSA or ECDSA.
 */

export {
  certValidity,
  chainsTo,
  describeCert,
  intermediateValidity,
  pemCertificates,
  rootOf,
  sameCertificate,
  type Validity
} from './chain.js'
export { CertError } from './x509.js'

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

/** A self-signed root CA: O=Istio, CN=Root CA (+ OU=<meshId>), CA:true, 10 years, ECDSA P-256 / SHA-256. */
export async function generateRoot(opts: { meshId?: string; validityDays?: number } = {}): Promise<CaBundle> {
  const days = validityDays(opts.validityDays, ROOT_DAYS)
  const meshId = opts.meshId
  if (meshId !== undefined && (meshId.length > 64 || /[\u0000-\u001f]/.test(meshId))) {
    throw new CertError(
      `mesh ID ${JSON.stringify(meshId.slice(0, 80))} cannot go into the root CA's subject (at most 64 characters, no control characters)`
    )
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
export async function generateIntermediate(
  root: CaBundle,
  clusterName: string,
  opts: { validityDays?: number } = {}
): Promise<CaBundle> {
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
      throw new CertError(
        `the root CA certificate's key usage does not allow signing certificates (keyCertSign) (${describeRoot(rootCert)})`
      )
    }
    if (libRoot.getExtension(x509.BasicConstraintsExtension)?.pathLength === 0) {
      throw new CertError(
        `the root CA certificate allows no CA below it (pathlen:0), so it cannot sign an intermediate CA (${describeRoot(rootCert)})`
      )
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
      throw new CertError(
        `the intermediate CA of cluster "${clusterName}" does not verify against the root CA (${describeRoot(rootCert)})`
      )
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
