// A root CA made with the openssl CLI, as a user makes one: key material the action's own code did not produce, for
// `ca: provided` / `ca: existing` and for checking what the action signs. One place for `openssl req -x509`.
import { execFile, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { promisify } from 'node:util'

export interface RootCaOptions {
  /** The folder <name>.key and <name>.pem are written to (they stay there). */
  dir: string
  name: string
  /** Default `/O=Corp/CN=<name>`. */
  subject?: string
  /** How openssl makes the key; default an EC P-256 key. */
  keyArgs?: string[]
  /** Default 3650: long enough that nothing signed under it counts as expiring. */
  days?: number
  /** `-addext` values; default ROOT_CA_EXTENSIONS. */
  extensions?: string[]
}

/** A CA certificate as RFC 5280 wants a root: CA:true, and allowed to sign certificates and CRLs. */
export const ROOT_CA_EXTENSIONS = ['basicConstraints=critical,CA:true', 'keyUsage=critical,keyCertSign,cRLSign']
/** A CA with basicConstraints only, as a hasty user makes one (no keyUsage: every usage is allowed). */
export const BASIC_CA_EXTENSIONS = ['basicConstraints=critical,CA:true']

/** The PEMs (the key as openssl writes it: PKCS#8) and the files holding them. */
export interface RootCa {
  cert: string
  key: string
  certFile: string
  keyFile: string
}

function rootCaCommand(o: RootCaOptions): { args: string[]; certFile: string; keyFile: string } {
  const keyFile = path.join(o.dir, `${o.name}.key`)
  const certFile = path.join(o.dir, `${o.name}.pem`)
  const args = [
    'req',
    '-x509',
    ...(o.keyArgs ?? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    String(o.days ?? 3650),
    '-sha256',
    '-subj',
    o.subject ?? `/O=Corp/CN=${o.name}`,
    ...(o.extensions ?? ROOT_CA_EXTENSIONS).flatMap((e) => ['-addext', e])
  ]
  return { args, certFile, keyFile }
}

const read = (c: { certFile: string; keyFile: string }): RootCa => ({
  cert: fs.readFileSync(c.certFile, 'utf8'),
  key: fs.readFileSync(c.keyFile, 'utf8'),
  certFile: c.certFile,
  keyFile: c.keyFile
})

/** Without blocking: for tests whose simulated API servers live in this process. */
export async function opensslRootCa(o: RootCaOptions): Promise<RootCa> {
  const c = rootCaCommand(o)
  await promisify(execFile)('openssl', c.args)
  return read(c)
}

/** Blocking: for unit tests, or before anything in this process has to answer. */
export function opensslRootCaSync(o: RootCaOptions): RootCa {
  const c = rootCaCommand(o)
  execFileSync('openssl', c.args, { stdio: ['ignore', 'pipe', 'pipe'] })
  return read(c)
}
