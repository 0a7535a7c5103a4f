// Which root of trust the mesh has, decided before any cluster changes: the inputs, what each cluster's cacerts chains
// to, the root stored by ca: generate, and how long each certificate has left.
import * as core from '@actions/core'
import { CaMode, Config } from '../config/index.js'
import { ISTIO_NAMESPACE, STORED_ROOT_SECRET } from '../istio-names.js'
import { registerSecret } from '../secrets.js'
import { ClusterState } from '../state.js'
import {
  CaBundle,
  certValidity,
  chainsTo,
  describeCert,
  generateRoot,
  intermediateValidity,
  rootOf,
  sameCertificate,
  type Validity
} from './certs.js'

/** The mesh root: with its key (generate, provided), or only its certificate (existing). */
export type MeshRoot = CaBundle | { certPem: string; keyPem?: undefined }

/** What prepare() saw of a cluster: its cacerts, the stored mesh root, and whether an istiod runs there already. */
export type ClusterTrust = Pick<ClusterState, 'cacerts' | 'storedRoot'> & { istiodRuns: boolean }

/** An intermediate CA that expires within this many days is re-issued (ca: existing: the run fails). */
export const RENEW_WITHIN_DAYS = 30
/** A mesh root that expires within this many days gets a warning. */
export const ROOT_WARNING_DAYS = 90
export const DAY_MS = 86_400_000

/** `2026-05-01T10:00:00Z`, and how far that is from now in whole days. */
function when(date: Date, now = Date.now()): { at: string; days: number; past: boolean } {
  const left = date.getTime() - now
  return {
    at: date.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    days: Math.round(Math.abs(left) / DAY_MS),
    past: left <= 0
  }
}

/** "expires on 2026-05-01T10:00:00Z (in 10 days)" / "expired on … (3 days ago)". */
export function expiry(v: Validity, now = Date.now()): string {
  const w = when(v.notAfter, now)
  const plural = w.days === 1 ? 'day' : 'days'
  return w.past ? `expired on ${w.at} (${w.days} ${plural} ago)` : `expires on ${w.at} (in ${w.days} ${plural})`
}

/**
 * The mesh's one root, from the inputs and what every cluster carries, checked against each cluster (unless ca-rotate)
 * and for its expiry. Throws before any write.
 */
export async function chooseRoot(config: Config, seen: Map<string, ClusterTrust>): Promise<MeshRoot> {
  const { mode } = config.ca
  let root: MeshRoot
  if (mode === 'provided') {
    root = { certPem: config.ca.rootCert!, keyPem: config.ca.rootKey! }
    checkAll(seen, root.certPem, config.ca.rotate)
  } else if (mode === 'existing') root = { certPem: commonExistingRoot(seen) }
  else root = await generatedRoot(config, seen)
  checkRootExpiry(mode, root.certPem)
  if (mode === 'existing') checkExistingExpiry(seen)
  return root
}

/** Throws (before any write) when the mesh root has expired; warns when it expires within ROOT_WARNING_DAYS. */
function checkRootExpiry(mode: CaMode, rootPem: string): void {
  const root = certValidity(rootPem)
  if (!root || root.notAfter.getTime() - Date.now() > ROOT_WARNING_DAYS * DAY_MS) return
  const replace = {
    generate: `delete secret ${STORED_ROOT_SECRET} in ${ISTIO_NAMESPACE} of every cluster and re-run with ca-rotate: true (a new root, new intermediates, istiod restarted)`,
    provided: 'pass a new ca-root-cert and ca-root-key with ca-rotate: true (new intermediates, istiod restarted)',
    existing:
      "re-issue every cluster's cacerts from a new root, or use ca: provided with a new root and ca-rotate: true",
    none: ''
  }[mode]
  if (root.notAfter.getTime() <= Date.now())
    throw new Error(
      `the mesh root of trust ${expiry(root)}: ${root.description}. istiod refuses to start with it ("x509: certificate has expired or is not yet valid") and no intermediate can be issued under it. To replace it, ${replace}`
    )
  core.warning(
    `the mesh root of trust ${expiry(root)}: ${root.description}. No intermediate can outlive it, and cross-cluster mTLS stops when it expires. Replace it before then: ${replace}`
  )
}

/** ca: existing never writes: an intermediate that has expired or expires soon fails the run, naming cluster and date. */
function checkExistingExpiry(seen: Map<string, ClusterTrust>): void {
  for (const [cluster, t] of seen) {
    const v = t.cacerts && intermediateValidity(t.cacerts)
    if (v && v.notAfter.getTime() - Date.now() <= RENEW_WITHIN_DAYS * DAY_MS)
      throw new Error(
        `${cluster}: cacerts' intermediate CA ${expiry(v)}: ${v.description}. istiod refuses to start with an expired one ("x509: certificate has expired or is not yet valid"), and ca: existing never re-issues it. ` +
          `Replace cacerts in ${cluster} with one valid for more than ${RENEW_WITHIN_DAYS} days, or use ca: provided with its root's certificate and key (the action then re-issues it and restarts istiod)`
      )
  }
}

function checkAll(seen: Map<string, ClusterTrust>, rootPem: string, rotate: boolean): void {
  if (rotate) return
  for (const [cluster, t] of seen) {
    const r = t.cacerts && rootOf(t.cacerts)
    if (t.cacerts && !(r && sameCertificate(r, rootPem))) throw new Error(mismatchMessage(cluster, r, rootPem))
  }
}

function commonExistingRoot(seen: Map<string, ClusterTrust>): string {
  const missing = [...seen].filter(([, t]) => !t.cacerts).map(([c]) => c)
  if (missing.length)
    throw new Error(
      `ca: existing, but ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no secret cacerts in ${ISTIO_NAMESPACE}; create it (Istio's "Plug in CA certificates") or use ca: generate / provided`
    )
  let first: [string, string] | undefined
  for (const [cluster, t] of seen) {
    const r = rootOf(t.cacerts!)
    const leaf = t.cacerts!['ca-cert.pem'] ?? t.cacerts!['tls.crt']
    if (!r) throw new Error(`${cluster}: cacerts has no root-cert.pem (or ca.crt)`)
    if (leaf && !chainsTo(leaf, r))
      throw new Error(`${cluster}: cacerts' ca-cert.pem is not signed by its own root-cert.pem (${describeCert(r)})`)
    if (!first) first = [cluster, r]
    else if (!sameCertificate(first[1], r))
      throw new Error(
        `ca: existing, but the clusters have different roots of trust: ${first[0]} has ${describeCert(first[1])}, ${cluster} has ${describeCert(r)}. Cross-cluster mTLS would fail (CERTIFICATE_VERIFY_FAILED); re-issue cacerts from one root`
      )
  }
  return first![1]
}

/** ca: generate — reuse the root stored in the members, so a re-run or a new cluster stays in the same mesh. */
async function generatedRoot(config: Config, seen: Map<string, ClusterTrust>): Promise<CaBundle> {
  const stored = [...seen].filter(([, t]) => t.storedRoot)
  for (const [cluster, t] of stored.slice(1))
    if (!sameCertificate(t.storedRoot!.certPem, stored[0][1].storedRoot!.certPem))
      throw new Error(
        `the clusters keep two different mesh roots (${stored[0][0]}: ${describeCert(stored[0][1].storedRoot!.certPem)}; ${cluster}: ${describeCert(t.storedRoot!.certPem)}): they belong to two meshes. Uninstall one, or use ca: provided with the root to keep and ca-rotate: true`
      )
  if (stored.length) {
    const root = stored[0][1].storedRoot!
    registerSecret(root.keyPem)
    checkAll(seen, root.certPem, config.ca.rotate)
    return root
  }
  const foreign = [...seen].filter(([, t]) => t.cacerts)
  if (foreign.length && !config.ca.rotate) {
    const r = rootOf(foreign[0][1].cacerts!)
    throw new Error(
      `${foreign.map(([c]) => c).join(', ')} already ${foreign.length > 1 ? 'have' : 'has'} a cacerts (root ${r ? describeCert(r) : 'unknown'}) that this action did not generate, and its root key is not stored in the mesh. Use ca: existing if every cluster has one, ca: provided with that root's certificate and key, or ca-rotate: true to replace it with a new root`
    )
  }
  const root = await generateRoot({ meshId: config.meshId })
  registerSecret(root.keyPem)
  return root
}

export function mismatchMessage(cluster: string, currentRoot: string | undefined, wanted: string): string {
  return (
    `${cluster}: secret cacerts in ${ISTIO_NAMESPACE} does not chain to the mesh root (it has ${currentRoot ? describeCert(currentRoot) : 'no root-cert.pem'}; the mesh root is ${describeCert(wanted)}). ` +
    `It was left unchanged. To replace it with an intermediate of the mesh root, re-run with ca-rotate: true (istiod is restarted; workloads get new certificates as they renew), or use ca: existing / provided with the root it chains to`
  )
}
