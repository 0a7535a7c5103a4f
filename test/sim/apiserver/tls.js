// Server certificate for a simulated API server: a throw-away CA and a leaf it signs, made with the
// openssl CLI (node:crypto cannot issue X.509 certificates). kubectl only sends bearer tokens over TLS.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
// P-256 keys: generation takes milliseconds, unlike RSA 4096.
const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/**
 * @param {{ commonName: string, ips: string[], dnsNames: string[] }} opts
 * @returns {Promise<{ caPem: string, certPem: string, keyPem: string }>}
 */
export async function issueServerCertificate({ commonName, ips, dnsNames }) {
  const dir = await mkdtemp(join(tmpdir(), 'sim-apiserver-tls-'))
  const file = (/** @type {string} */ n) => join(dir, n)
  try {
    await run('openssl', [
      'req',
      '-x509',
      ...KEY,
      '-days',
      '3650',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-subj',
      `/O=sim/CN=${commonName}-ca`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'
    ])
    const sans = [...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((d) => `DNS:${d}`)].join(',')
    await run('openssl', [
      'req',
      '-x509',
      ...KEY,
      '-days',
      '365',
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-keyout',
      file('tls.key'),
      '-out',
      file('tls.pem'),
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${sans}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=serverAuth'
    ])
    const [caPem, certPem, keyPem] = await Promise.all(
      ['ca.pem', 'tls.pem', 'tls.key'].map((n) => readFile(file(n), 'utf8'))
    )
    return { caPem, certPem, keyPem }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
