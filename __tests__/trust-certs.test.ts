import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type CaBundle,
  CertError,
  cacertsData,
  cacertsSecret,
  certValidity,
  chainsTo,
  describeCert,
  generateIntermediate,
  generateRoot,
  intermediateValidity,
  pemCertificates,
  rootOf,
  sameCertificate
} from '../src/trust/certs.js'
import { rolloutTimeoutMs, DEFAULT_ROLLOUT_TIMEOUT_MS } from '../src/kube/istiod.js'
import { parseConfig } from '../src/config/index.js'
import { ClusterState } from '../src/state.js'
import { ClusterTools } from '../src/tools.js'
import { TrustManager } from '../src/trust/trust.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'
import { opensslRootCaSync } from '../__fixtures__/openssl-ca.js'

// Every generated certificate is checked with the openssl CLI, a verifier independent of the code that built it.

let dir = ''
let counter = 0
const timings: string[] = []

/** Writes a PEM (mode 0600) into the temp dir and returns its path. */
function file(name: string, content: string): string {
  const path = join(dir, `${++counter}-${name}`)
  writeFileSync(path, content, { mode: 0o600 })
  return path
}

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/** `openssl verify`, returning stdout+stderr and whether it succeeded. */
function verify(...args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: openssl('verify', ...args) }
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string }
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }
  }
}

function text(certPem: string): string {
  return openssl('x509', '-text', '-noout', '-in', file('cert.pem', certPem))
}

/** The certificate's subject or issuer Name as DER bytes (hex), read straight from the TBSCertificate. */
function rawName(certPem: string, which: 'issuer' | 'subject'): string {
  const der = new X509Certificate(certPem).raw
  const tlv = (at: number): { start: number; content: number; end: number } => {
    let length = der[at + 1]
    let content = at + 2
    if (length & 0x80) {
      const n = length & 0x7f
      length = 0
      for (let i = 0; i < n; i++) length = length * 256 + der[content + i]
      content += n
    }
    return { start: at, content, end: content + length }
  }
  let at = tlv(tlv(0).content).content
  if (der[at] === 0xa0) at = tlv(at).end
  for (let i = 0; i < (which === 'issuer' ? 2 : 4); i++) at = tlv(at).end
  const name = tlv(at)
  return der.subarray(name.start, name.end).toString('hex')
}

/** A root CA made by openssl (`req -x509`), as a user would bring one. */
function opensslRoot(
  keyArgs: string[],
  days = '3650',
  traditional = false,
  subject = '/O=Example Corp/CN=Corp Root CA'
): CaBundle {
  const { keyFile: key, certFile: cert } = opensslRootCaSync({
    dir,
    name: `provided-${++counter}`,
    keyArgs,
    days: Number(days),
    subject
  })
  // openssl writes PKCS#8; `rsa -traditional` gives PKCS#1, `ec` gives SEC1.
  const keyPem = !traditional
    ? readFileSync(key, 'utf8')
    : keyArgs.includes('rsa:2048')
      ? openssl('rsa', '-in', key, '-traditional')
      : openssl('ec', '-in', key)
  return { certPem: readFileSync(cert, 'utf8'), keyPem }
}

/** A new P-256 key (at `key`) and a certificate request for `subject` (at `csr`). */
function opensslCsr(key: string, subject: string, csr: string): void {
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-subj',
    subject,
    '-out',
    csr
  )
}

/** An intermediate CA for `cluster` signed by `root` with openssl, with the extensions of Makefile.selfsigned.mk. */
function opensslIntermediate(root: CaBundle, cluster: string): CaBundle {
  const key = join(dir, `intermediate-${++counter}.key`)
  const csr = join(dir, `intermediate-${counter}.csr`)
  const cert = join(dir, `intermediate-${counter}.pem`)
  opensslCsr(key, `/O=Istio/CN=Intermediate CA/L=${cluster}`, csr)
  const ext = file(
    'intermediate.ext',
    'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,digitalSignature,nonRepudiation,keyEncipherment,keyCertSign\nsubjectAltName=DNS:istiod.istio-system.svc\n'
  )
  const rootFile = file('root.pem', root.certPem)
  const rootKey = file('root.key', root.keyPem)
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    rootFile,
    '-CAkey',
    rootKey,
    '-set_serial',
    String(1000 + counter),
    '-days',
    '730',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    cert
  )
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') }
}

/**
 * A cacerts of the istiod form, written by hand as Istio's "Plug in CA certificates" makes it (`kubectl create secret
 * generic cacerts --from-file=ca-cert.pem --from-file=ca-key.pem --from-file=root-cert.pem --from-file=cert-chain.pem`,
 * cert-chain.pem = intermediate + root): the expectation for cacertsData, and the input of the readers below.
 */
const pluggedIn = (r: CaBundle, i: CaBundle): Record<string, string> => ({
  'ca-cert.pem': i.certPem,
  'ca-key.pem': i.keyPem,
  'root-cert.pem': r.certPem,
  'cert-chain.pem': i.certPem + r.certPem
})

/** openssl's reading of a certificate's notBefore or notAfter. */
function opensslDate(certPem: string, which: 'startdate' | 'enddate'): Date {
  const line = openssl('x509', `-${which}`, '-noout', '-in', file('cert.pem', certPem)).trim()
  return new Date(line.slice(line.indexOf('=') + 1))
}

/** openssl's SHA-256 fingerprint of a certificate: `AB:CD:…`. */
function opensslFingerprint(certPem: string): string {
  const line = openssl('x509', '-fingerprint', '-sha256', '-noout', '-in', file('cert.pem', certPem)).trim()
  return line.slice(line.indexOf('=') + 1)
}

const DAY = 86_400_000

let root: CaBundle
let intermediates: CaBundle[]
let otherRoot: CaBundle
let otherIntermediate: CaBundle

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'trust-certs-'))
  let t = performance.now()
  root = await generateRoot({ meshId: 'mesh1' })
  const rootMs = performance.now() - t
  t = performance.now()
  intermediates = await Promise.all(
    ['cluster1', 'cluster2', 'cluster3'].map((name) => generateIntermediate(root, name))
  )
  const intermediatesMs = performance.now() - t
  t = performance.now()
  const sequential: CaBundle[] = []
  for (const name of ['a', 'b', 'c']) sequential.push(await generateIntermediate(root, name))
  const sequentialMs = performance.now() - t
  timings.push(
    `generateRoot (first call, includes loading @peculiar/x509): ${rootMs.toFixed(0)} ms`,
    `3 × generateIntermediate in parallel: ${intermediatesMs.toFixed(0)} ms`,
    `3 × generateIntermediate one after another: ${sequentialMs.toFixed(0)} ms`
  )
  otherRoot = await generateRoot()
  otherIntermediate = await generateIntermediate(otherRoot, 'cluster1')
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
  if (timings.length) process.stdout.write(`trust-certs timings:\n  ${timings.join('\n  ')}\n`)
})

describe('generateRoot', () => {
  it('builds a self-signed CA with the Makefile.selfsigned.mk extensions', () => {
    const out = text(root.certPem)
    expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE\s*\n/)
    expect(out).toMatch(
      /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign\s*\n/
    )
    expect(out).toMatch(/X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}/)
    expect(out).toMatch(/Subject: O = Istio, CN = Root CA, OU = mesh1\s*\n/)
    expect(out).toMatch(/Issuer: O = Istio, CN = Root CA, OU = mesh1\s*\n/)
    expect(out).toContain('Signature Algorithm: ecdsa-with-SHA256')
    expect(out).toContain('ASN1 OID: prime256v1')
    expect(verify('-CAfile', file('root.pem', root.certPem), file('root.pem', root.certPem)).ok).toBe(true)
  })

  it('is valid for 10 years with a positive 16-byte serial', () => {
    const cert = new X509Certificate(root.certPem)
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY / 365
    expect(years).toBeGreaterThan(9.99)
    expect(years).toBeLessThan(10.01)
    expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now())
    expect(cert.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/)
    expect(new X509Certificate(otherRoot.certPem).serialNumber).not.toBe(cert.serialNumber)
  })

  it('leaves out the OU without a mesh ID, and exports the key as PKCS#8 matching the certificate', () => {
    expect(text(otherRoot.certPem)).toMatch(/Subject: O = Istio, CN = Root CA\s*\n/)
    expect(root.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/)
    const fromKey = openssl('pkey', '-in', file('key.pem', root.keyPem), '-pubout')
    const fromCert = openssl('x509', '-in', file('root.pem', root.certPem), '-pubkey', '-noout')
    expect(fromKey).toBe(fromCert)
  })

  it('rejects bad options', async () => {
    await expect(generateRoot({ validityDays: 0 })).rejects.toThrow(CertError)
    await expect(generateRoot({ meshId: 'x'.repeat(65) })).rejects.toThrow(/mesh ID/)
  })
})

describe('generateIntermediate', () => {
  it('is signed by the root (openssl verify) and carries the Istio intermediate extensions', () => {
    const rootFile = file('root.pem', root.certPem)
    intermediates.forEach((intermediate, i) => {
      const result = verify('-CAfile', rootFile, file('ca-cert.pem', intermediate.certPem))
      expect(result.output).toMatch(/: OK\s*$/)
      expect(result.ok).toBe(true)
      const out = text(intermediate.certPem)
      expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0\s*\n/)
      expect(out).toMatch(
        /X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign\s*\n/
      )
      expect(out).toMatch(/X509v3 Subject Alternative Name:\s*\n\s+DNS:istiod\.istio-system\.svc\s*\n/)
      expect(out).toMatch(new RegExp(`Subject: O = Istio, CN = Intermediate CA, L = cluster${i + 1}\\s*\\n`))
      expect(out).toMatch(/Issuer: O = Istio, CN = Root CA, OU = mesh1\s*\n/)
      expect(out).toContain('Signature Algorithm: ecdsa-with-SHA256')
      expect(out).toMatch(/X509v3 Subject Key Identifier:\s+[0-9A-F:]{59}/)
    })
  })

  it("names the root's key identifier and the root's subject bytes as its issuer", () => {
    const rootSki = /X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(text(root.certPem))?.[1]
    expect(rootSki).toBeDefined()
    const out = text(intermediates[0].certPem)
    expect(/X509v3 Authority Key Identifier:\s+(?:keyid:)?([0-9A-F:]+)/.exec(out)?.[1]).toBe(rootSki)
    expect(/X509v3 Subject Key Identifier:\s+([0-9A-F:]+)/.exec(out)?.[1]).not.toBe(rootSki)
    expect(rawName(intermediates[0].certPem, 'issuer')).toBe(rawName(root.certPem, 'subject'))
  })

  it('is valid for 2 years, and never past the root', async () => {
    const cert = new X509Certificate(intermediates[0].certPem)
    const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / DAY
    expect(days).toBeGreaterThan(729.9)
    expect(days).toBeLessThan(730.1)
    const shortRoot = await generateRoot({ validityDays: 30 })
    const capped = await generateIntermediate(shortRoot, 'cluster1')
    expect(new X509Certificate(capped.certPem).validTo).toBe(new X509Certificate(shortRoot.certPem).validTo)
    expect(verify('-CAfile', file('root.pem', shortRoot.certPem), file('ca.pem', capped.certPem)).ok).toBe(true)
  })

  it('gives every cluster its own key, distinct from the root', () => {
    const keys = new Set([root.keyPem, ...intermediates.map((i) => i.keyPem)])
    expect(keys.size).toBe(4)
    for (const intermediate of intermediates) {
      const fromKey = openssl('pkey', '-in', file('key.pem', intermediate.keyPem), '-pubout')
      expect(fromKey).toBe(openssl('x509', '-in', file('ca.pem', intermediate.certPem), '-pubkey', '-noout'))
    }
  })

  it('is not accepted under a different root', () => {
    const result = verify('-CAfile', file('root.pem', otherRoot.certPem), file('ca.pem', intermediates[0].certPem))
    expect(result.ok).toBe(false)
  })

  it("can act as Istio's CA: a workload leaf it signs verifies against the root, a sub-CA does not (pathlen:0)", () => {
    const intermediate = intermediates[0]
    const caCert = file('ca-cert.pem', intermediate.certPem)
    const caKey = file('ca-key.pem', intermediate.keyPem)
    const rootFile = file('root.pem', root.certPem)
    const leafKey = join(dir, 'leaf.key')
    const csr = join(dir, 'leaf.csr')
    const leaf = join(dir, 'leaf.pem')
    opensslCsr(leafKey, '/', csr)
    const ext = file(
      'leaf.ext',
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=critical,URI:spiffe://cluster.local/ns/default/sa/default\n'
    )
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-set_serial',
      '0x1234',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      leaf
    )
    const good = verify('-CAfile', rootFile, '-untrusted', caCert, leaf)
    expect(good.output).toMatch(/: OK\s*$/)
    expect(good.ok).toBe(true)
    // The same leaf does not verify under another mesh's root.
    expect(verify('-CAfile', file('root.pem', otherRoot.certPem), '-untrusted', caCert, leaf).ok).toBe(false)

    // pathlen:0: a CA below the intermediate must be refused.
    const subKey = join(dir, 'sub.key')
    const subCsr = join(dir, 'sub.csr')
    const sub = join(dir, 'sub.pem')
    opensslCsr(subKey, '/CN=sub', subCsr)
    const subExt = file('sub.ext', 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n')
    openssl(
      'x509',
      '-req',
      '-in',
      subCsr,
      '-CA',
      caCert,
      '-CAkey',
      caKey,
      '-set_serial',
      '0x99',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      subExt,
      '-out',
      sub
    )
    const subLeaf = join(dir, 'sub-leaf.pem')
    openssl(
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      sub,
      '-CAkey',
      subKey,
      '-set_serial',
      '0x98',
      '-days',
      '1',
      '-sha256',
      '-extfile',
      ext,
      '-out',
      subLeaf
    )
    const chain = file('chain.pem', readFileSync(caCert, 'utf8') + readFileSync(sub, 'utf8'))
    const refused = verify('-CAfile', rootFile, '-untrusted', chain, subLeaf)
    expect(refused.ok).toBe(false)
    expect(refused.output).toMatch(/path length/i)
  })

  describe('with a root the user provides', () => {
    it('signs with an RSA root (RSASSA-PKCS1-v1_5 SHA-256) that openssl verify accepts', async () => {
      const rsaRoot = opensslRoot(['-newkey', 'rsa:2048'])
      expect(rsaRoot.keyPem).toContain('-----BEGIN PRIVATE KEY-----')
      const intermediate = await generateIntermediate(rsaRoot, 'cluster1')
      const result = verify('-CAfile', file('rsa-root.pem', rsaRoot.certPem), file('ca.pem', intermediate.certPem))
      expect(result.output).toMatch(/: OK\s*$/)
      const out = text(intermediate.certPem)
      expect(out).toContain('Signature Algorithm: sha256WithRSAEncryption')
      expect(out).toMatch(/Issuer: O = Example Corp, CN = Corp Root CA\s*\n/)
      expect(out).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/)
      // openssl writes UTF8String names; the issuer must keep those exact bytes.
      expect(rawName(intermediate.certPem, 'issuer')).toBe(rawName(rsaRoot.certPem, 'subject'))
      expect(chainsTo(intermediate.certPem, rsaRoot.certPem)).toBe(true)
      // The RSA-rooted intermediate (an ECDSA key) still signs a leaf that verifies up to the RSA root.
      const caCert = file('ca-cert.pem', intermediate.certPem)
      const csr = join(dir, 'rsa-leaf.csr')
      const leaf = join(dir, 'rsa-leaf.pem')
      opensslCsr(join(dir, 'rsa-leaf.key'), '/CN=leaf', csr)
      openssl(
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caCert,
        '-CAkey',
        file('ca-key.pem', intermediate.keyPem),
        '-set_serial',
        '7',
        '-days',
        '1',
        '-out',
        leaf
      )
      expect(verify('-CAfile', file('rsa-root.pem', rsaRoot.certPem), '-untrusted', caCert, leaf).ok).toBe(true)
    })

    it('accepts PKCS#1 RSA and SEC1 EC (P-384) keys, and caps the intermediate at the root expiry', async () => {
      const pkcs1 = opensslRoot(['-newkey', 'rsa:2048'], '3650', true)
      expect(pkcs1.keyPem).toContain('-----BEGIN RSA PRIVATE KEY-----')
      const a = await generateIntermediate(pkcs1, 'cluster2')
      expect(verify('-CAfile', file('root.pem', pkcs1.certPem), file('ca.pem', a.certPem)).ok).toBe(true)

      const ec384 = opensslRoot(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], '90', true)
      expect(ec384.keyPem).toContain('-----BEGIN EC PRIVATE KEY-----')
      const b = await generateIntermediate(ec384, 'cluster3')
      expect(verify('-CAfile', file('root.pem', ec384.certPem), file('ca.pem', b.certPem)).ok).toBe(true)
      expect(new X509Certificate(b.certPem).validTo).toBe(new X509Certificate(ec384.certPem).validTo)
    })
  })

  it("refuses a key that is not the root certificate's, without quoting any key", async () => {
    const error = await generateIntermediate({ certPem: root.certPem, keyPem: otherRoot.keyPem }, 'cluster1').catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(CertError)
    const message = (error as Error).message
    expect(message).toMatch(/does not belong to the root CA certificate/)
    expect(message).not.toContain('PRIVATE KEY')
    expect(message).not.toContain(otherRoot.keyPem.split('\n')[1].slice(0, 20))
  })

  it('refuses garbage keys, non-PEM and non-CA roots, and a pathlen:0 CA as root', async () => {
    const secretish = '-----BEGIN PRIVATE KEY-----\nTk9UQUtFWV9CVVRfU0VDUkVUX0xPT0tJTkc=\n-----END PRIVATE KEY-----\n'
    const bad = await generateIntermediate({ certPem: root.certPem, keyPem: secretish }, 'cluster1').catch(
      (e: unknown) => e
    )
    expect(bad).toBeInstanceOf(CertError)
    expect((bad as Error).message).toMatch(/could not be read/)
    expect((bad as Error).message).not.toContain('Tk9UQUtFWV9')
    expect(JSON.stringify(bad)).not.toContain('Tk9UQUtFWV9')
    expect((bad as Error).cause).toBeUndefined()

    const notPem = await generateIntermediate({ certPem: 'not a certificate', keyPem: root.keyPem }, 'cluster1').catch(
      (e: unknown) => e
    )
    expect((notPem as Error).message).toMatch(/not a PEM certificate/)
    // A leaf (CA:FALSE) is no root.
    const leafKey = join(dir, 'not-ca.key')
    const leafCert = join(dir, 'not-ca.pem')
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      leafKey,
      '-out',
      leafCert,
      '-days',
      '1',
      '-subj',
      '/CN=leaf',
      '-addext',
      'basicConstraints=critical,CA:FALSE'
    )
    await expect(
      generateIntermediate(
        { certPem: readFileSync(leafCert, 'utf8'), keyPem: readFileSync(leafKey, 'utf8') },
        'cluster1'
      )
    ).rejects.toThrow(/not a CA certificate/)
    // An intermediate (pathlen:0) cannot have a CA below it.
    await expect(generateIntermediate(intermediates[0], 'cluster1')).rejects.toThrow(/pathlen:0/)
    await expect(generateIntermediate(root, '')).rejects.toThrow(/cluster name/)
  })
})

describe('cacerts', () => {
  it('holds the four istiod files, cert-chain.pem = intermediate + root', () => {
    const data = cacertsData(root, intermediates[0])
    expect(data).toEqual(pluggedIn(root, intermediates[0]))
    const chain = pemCertificates(data['cert-chain.pem'])
    expect(chain).toHaveLength(2)
    expect(sameCertificate(chain[0], intermediates[0].certPem)).toBe(true)
    expect(sameCertificate(chain[1], root.certPem)).toBe(true)

    const files = Object.fromEntries(Object.entries(data).map(([name, content]) => [name, file(name, content)]))
    const ok = verify('-CAfile', files['root-cert.pem'], '-untrusted', files['cert-chain.pem'], files['ca-cert.pem'])
    expect(ok.output).toMatch(/: OK\s*$/)
    // openssl shows the chain it built: ca-cert.pem → root-cert.pem, taken from cert-chain.pem
    const shown = openssl(
      'verify',
      '-show_chain',
      '-CAfile',
      files['root-cert.pem'],
      '-untrusted',
      files['cert-chain.pem'],
      files['ca-cert.pem']
    )
    expect(shown).toMatch(/depth=0: O = Istio, CN = Intermediate CA, L = cluster1/)
    expect(shown).toMatch(/depth=1: O = Istio, CN = Root CA, OU = mesh1/)
    // cert-chain.pem verifies as a chain only against its own root.
    expect(
      verify(
        '-CAfile',
        file('root.pem', otherRoot.certPem),
        '-untrusted',
        files['cert-chain.pem'],
        files['ca-cert.pem']
      ).ok
    ).toBe(false)
  })

  it('is the istio-system/cacerts Opaque secret, labelled as managed by the action', () => {
    const secret = cacertsSecret(root, intermediates[1])
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'cacerts',
        namespace: 'istio-system',
        labels: { 'app.kubernetes.io/managed-by': 'istio-multicluster-action' }
      },
      type: 'Opaque',
      stringData: pluggedIn(root, intermediates[1])
    })
  })

  it('rootOf reads root-cert.pem, or ca.crt of the kubernetes.io/tls form (which istiod prefers when tls.crt is there)', () => {
    expect(rootOf(pluggedIn(root, intermediates[0]))).toBe(root.certPem)
    expect(
      rootOf({ 'tls.crt': intermediates[0].certPem, 'tls.key': intermediates[0].keyPem, 'ca.crt': otherRoot.certPem })
    ).toBe(otherRoot.certPem)
    expect(rootOf({ 'tls.crt': intermediates[0].certPem, 'root-cert.pem': root.certPem })).toBeUndefined()
    expect(rootOf({ 'root-cert.pem': '  \n' })).toBeUndefined()
    expect(rootOf({})).toBeUndefined()
  })
})

describe('chainsTo / sameCertificate', () => {
  it('recognises the right root, the root itself, and a mismatching existing set', () => {
    expect(chainsTo(intermediates[0].certPem, root.certPem)).toBe(true)
    expect(chainsTo(root.certPem, root.certPem)).toBe(true)
    expect(chainsTo(otherIntermediate.certPem, root.certPem)).toBe(false)
    expect(chainsTo(otherRoot.certPem, root.certPem)).toBe(false)
    expect(chainsTo(intermediates[0].certPem, otherRoot.certPem)).toBe(false)
    // An existing secret's cert-chain.pem: its first certificate is what counts.
    expect(chainsTo(intermediates[2].certPem + root.certPem, root.certPem)).toBe(true)
    expect(chainsTo(otherIntermediate.certPem + otherRoot.certPem, root.certPem)).toBe(false)
    // root-cert.pem holding two roots (a root rotation) counts either.
    expect(chainsTo(intermediates[0].certPem, otherRoot.certPem + root.certPem)).toBe(true)
    expect(chainsTo('garbage', root.certPem)).toBe(false)
    expect(chainsTo(intermediates[0].certPem, '')).toBe(false)
  })

  it('does not trust an issuer name alone: a root of the same subject but another key is not a match', async () => {
    // Two roots with the same subject: names match, so only the key identifier and signature tell them apart.
    const twinA = await generateRoot()
    const twinB = await generateRoot()
    const child = await generateIntermediate(twinB, 'cluster1')
    expect(new X509Certificate(child.certPem).issuer).toBe(new X509Certificate(twinA.certPem).subject)
    expect(chainsTo(child.certPem, twinA.certPem)).toBe(false)
    expect(chainsTo(child.certPem, twinB.certPem)).toBe(true)
  })

  it('compares certificates by SHA-256 fingerprint', () => {
    expect(sameCertificate(root.certPem, root.certPem.replace(/\n/g, '\r\n'))).toBe(true)
    expect(sameCertificate(root.certPem, otherRoot.certPem)).toBe(false)
    expect(sameCertificate(intermediates[0].certPem + root.certPem, intermediates[0].certPem)).toBe(true)
    expect(sameCertificate('', '')).toBe(false)
  })
})

describe('describeCert', () => {
  it('names subject, fingerprint prefix and expiry, and never key material', () => {
    const description = describeCert(root.certPem + root.keyPem)
    // Fingerprint and end date as openssl reads them.
    const prefix = opensslFingerprint(root.certPem).split(':').slice(0, 8).join(':')
    expect(prefix).toMatch(/^([0-9A-F]{2}:){7}[0-9A-F]{2}$/)
    expect(description).toBe(
      `subject "O=Istio, CN=Root CA, OU=mesh1", SHA-256 ${prefix}…, valid until ${opensslDate(root.certPem, 'enddate').toISOString()}`
    )
    expect(description).not.toContain('PRIVATE KEY')
    expect(describeCert(root.keyPem)).not.toContain('PRIVATE KEY')
    expect(describeCert(intermediates[0].certPem)).toMatch(
      /^subject "O=Istio, CN=Intermediate CA, L=cluster1", SHA-256 ([0-9A-F]{2}:){7}[0-9A-F]{2}…, valid until \d{4}-/
    )
  })
})

describe('certValidity / intermediateValidity', () => {
  it("reads a certificate's window; the signing CA's expiry, not the root's", () => {
    const v = certValidity(intermediates[0].certPem)!
    expect(v.notAfter).toEqual(opensslDate(intermediates[0].certPem, 'enddate'))
    expect(v.notBefore).toEqual(opensslDate(intermediates[0].certPem, 'startdate'))
    expect(v.description).toMatch(/^subject "O=Istio, CN=Intermediate CA, L=cluster1"/)
    // The root (10 years) outlives the intermediate (2 years): what counts is the intermediate's end.
    expect(intermediateValidity(pluggedIn(root, intermediates[0]))!.notAfter).toEqual(
      opensslDate(intermediates[0].certPem, 'enddate')
    )
    expect(certValidity(root.keyPem)).toBeUndefined()
    expect(intermediateValidity({ 'root-cert.pem': root.certPem })).toBeUndefined()
  })

  it('takes the earliest intermediate of cert-chain.pem, leaves roots out, and reads tls.crt in the kubernetes.io/tls form', async () => {
    const shortRoot = await generateRoot({ validityDays: 3 })
    const shortIntermediate = await generateIntermediate(otherRoot, 'x', { validityDays: 5 })
    const data = pluggedIn(root, intermediates[1])
    // A self-signed certificate in the chain is a root: its (earlier) expiry is not the intermediate's.
    expect(
      intermediateValidity({ ...data, 'cert-chain.pem': data['cert-chain.pem'] + shortRoot.certPem })!.notAfter
    ).toEqual(opensslDate(intermediates[1].certPem, 'enddate'))
    const withSub = intermediateValidity({
      ...data,
      'cert-chain.pem': intermediates[1].certPem + shortIntermediate.certPem + root.certPem
    })!
    expect(withSub.notAfter).toEqual(opensslDate(shortIntermediate.certPem, 'enddate'))
    expect(withSub.notAfter.getTime() - Date.now()).toBeLessThan(5 * DAY + 60_000)
    const tls = intermediateValidity({
      'tls.crt': shortIntermediate.certPem,
      'tls.key': 'k',
      'ca.crt': otherRoot.certPem,
      'ca-cert.pem': intermediates[2].certPem
    })!
    expect(tls.notAfter).toEqual(opensslDate(shortIntermediate.certPem, 'enddate'))
  })
})

describe('TrustManager.prepare: the mesh root, decided from what the clusters carry (before any write)', () => {
  // Hand-made cluster states (the shape parseClusterState returns); prepare() starts no process in these cases.
  const state = (more: Partial<ClusterState> = {}): ClusterState => ({
    namespaceExists: true,
    istiods: [],
    remoteSecrets: [],
    retiredImages: [],
    versions: {},
    ...more
  })
  const prepare = (ca: Record<string, string>, states: Record<string, ClusterState>) => {
    const config = parseConfig(
      source({
        clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}',
        kubeconfig: tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2'),
        ...ca
      })
    )
    const trust = new TrustManager(config, new ClusterTools('/nonexistent/kubeconfig', '/nonexistent/istioctl'))
    return { trust, done: trust.prepare(new Map(Object.entries(states))) }
  }
  const failure = async (p: Promise<unknown>) =>
    ((await p.then(() => undefined).catch((e: unknown) => e)) as Error | undefined)?.message

  it('ca: generate refuses a cacerts it did not make when no mesh root is stored, naming ca: existing, ca: provided and ca-rotate', async () => {
    const foreign = opensslRoot(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      '3650',
      false,
      '/O=Example Corp/CN=Foreign Root'
    )
    const cacerts = pluggedIn(foreign, opensslIntermediate(foreign, 'c2'))
    const message = await failure(prepare({}, { c1: state(), c2: state({ cacerts }) }).done)
    expect(message).toMatch(
      /^c2 already has a cacerts \(root subject "O=Example Corp, CN=Foreign Root", SHA-256 [0-9A-F:]+…, valid until [^)]+\) that this action did not generate/
    )
    expect(message).toContain('its root key is not stored in the mesh')
    expect(message).toContain(
      "Use ca: existing if every cluster has one, ca: provided with that root's certificate and key, or ca-rotate: true to replace it with a new root"
    )
    // Both clusters: both are named.
    expect(await failure(prepare({}, { c1: state({ cacerts }), c2: state({ cacerts }) }).done)).toMatch(
      /^c1, c2 already have a cacerts /
    )
    // With ca-rotate: true the run may go on, under a new root (not the foreign one).
    const rotated = prepare({ 'ca-rotate': 'true' }, { c1: state(), c2: state({ cacerts }) })
    await rotated.done
    expect(opensslFingerprint(rotated.trust.rootCertPem!)).not.toBe(opensslFingerprint(foreign.certPem))
  })

  it('ca: generate refuses two different stored mesh roots: the clusters belong to two meshes', async () => {
    const a = await generateRoot({ meshId: 'mesh1' })
    const b = await generateRoot({ meshId: 'mesh1' })
    const message = await failure(prepare({}, { c1: state({ storedRoot: a }), c2: state({ storedRoot: b }) }).done)
    expect(message).toMatch(
      /^the clusters keep two different mesh roots \(c1: subject "O=Istio, CN=Root CA, OU=mesh1", SHA-256 [0-9A-F:]+…, [^;]+; c2: subject /
    )
    expect(message).toContain(
      'they belong to two meshes. Uninstall one, or use ca: provided with the root to keep and ca-rotate: true'
    )
    // The same stored root in both is the mesh root; one stored root is too (the other cluster is new).
    for (const c2 of [state({ storedRoot: a }), state()]) {
      const same = prepare({}, { c1: state({ storedRoot: a }), c2 })
      await same.done
      expect(same.trust.rootCertPem).toBe(a.certPem)
    }
  })

  it('ca: existing refuses a cacerts whose ca-cert.pem is not signed by its own root-cert.pem', async () => {
    const a = opensslRoot(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      '3650',
      false,
      '/O=Example Corp/CN=Root A'
    )
    const b = opensslRoot(
      ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      '3650',
      false,
      '/O=Example Corp/CN=Root B'
    )
    const good = pluggedIn(a, opensslIntermediate(a, 'c1'))
    // ca-cert.pem (and cert-chain.pem) from root B, root-cert.pem root A: openssl agrees it does not verify.
    const crossed = pluggedIn(a, opensslIntermediate(b, 'c2'))
    expect(
      verify('-CAfile', file('root.pem', crossed['root-cert.pem']), file('ca.pem', crossed['ca-cert.pem'])).ok
    ).toBe(false)
    expect(verify('-CAfile', file('root.pem', good['root-cert.pem']), file('ca.pem', good['ca-cert.pem'])).ok).toBe(
      true
    )

    const message = await failure(
      prepare({ ca: 'existing' }, { c1: state({ cacerts: good }), c2: state({ cacerts: crossed }) }).done
    )
    expect(message).toMatch(
      /^c2: cacerts' ca-cert\.pem is not signed by its own root-cert\.pem \(subject "O=Example Corp, CN=Root A", SHA-256 [0-9A-F:]+…, valid until /
    )
    // Both signed by their own root A: accepted, and A is the mesh root.
    const fine = prepare(
      { ca: 'existing' },
      { c1: state({ cacerts: good }), c2: state({ cacerts: pluggedIn(a, opensslIntermediate(a, 'c2')) }) }
    )
    await fine.done
    expect(fine.trust.rootCertPem).toBe(a.certPem)
  })
})

describe('rolloutTimeoutMs', () => {
  it('is 5 minutes unless ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT sets a duration of a second or more', () => {
    expect(DEFAULT_ROLLOUT_TIMEOUT_MS).toBe(300_000)
    expect(rolloutTimeoutMs({})).toBe(300_000)
    expect(rolloutTimeoutMs({ ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT: '90s' })).toBe(90_000)
    expect(rolloutTimeoutMs({ ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT: '2m' })).toBe(120_000)
    expect(rolloutTimeoutMs({ ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT: 'soon' })).toBe(300_000)
    expect(rolloutTimeoutMs({ ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT: '10ms' })).toBe(300_000)
  })
})
