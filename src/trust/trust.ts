import * as core from '@actions/core'
import { Config } from '../config/index.js'
import { ISTIOD_SELECTOR, ISTIO_NAMESPACE, MANAGED_BY, MANAGED_BY_LABEL, STORED_ROOT_SECRET } from '../istio-names.js'
import { restartIstiods } from '../kube/istiod.js'
import * as kubectl from '../kube/kubectl.js'
import { KubeObject, toYaml, withEncodedData } from '../manifests/kubernetes.js'
import { registerSecret } from '../secrets.js'
import { ClusterState } from '../state.js'
import { ClusterTools, StepLog } from '../tools.js'
import {
  CaBundle,
  cacertsSecret,
  certValidity,
  chainsTo,
  describeCert,
  generateIntermediate,
  generateRoot,
  intermediateValidity,
  rootOf,
  sameCertificate,
  type Validity
} from './certs.js'

/** What prepare() saw of a cluster: its cacerts, the stored mesh root, and whether an istiod runs there already. */
type ClusterTrust = Pick<ClusterState, 'cacerts' | 'storedRoot'> & { istiodRuns: boolean }

export type TrustOutcome = 'created' | 'kept' | 'renewed' | 'rotated' | 'checked'

/** An intermediate CA that expires within this many days is re-issued (ca: existing: the run fails). */
export const RENEW_WITHIN_DAYS = 30
/** A mesh root that expires within this many days gets a warning. */
export const ROOT_WARNING_DAYS = 90
const DAY_MS = 86_400_000

/** `2026-05-01T10:00:00Z`, and how far that is from now in whole days. */
function when(date: Date, now = Date.now()): { at: string; days: number; past: boolean } {
  const left = date.getTime() - now
  return { at: date.toISOString().replace(/\.\d{3}Z$/, 'Z'), days: Math.round(Math.abs(left) / DAY_MS), past: left <= 0 }
}

/** "expires on 2026-05-01T10:00:00Z (in 10 days)" / "expired on … (3 days ago)". */
function expiry(v: Validity, now = Date.now()): string {
  const w = when(v.notAfter, now)
  const plural = w.days === 1 ? 'day' : 'days'
  return w.past ? `expired on ${w.at} (${w.days} ${plural} ago)` : `expires on ${w.at} (in ${w.days} ${plural})`
}

/**
 * Decides the mesh's one root before any cluster changes, then gives each cluster a `cacerts` that chains to it.
 * Never replaces a cacerts silently: one that chains elsewhere fails the run unless `ca-rotate` is true.
 */
export class TrustManager {
  private root?: CaBundle | { certPem: string; keyPem?: undefined }
  private readonly seen = new Map<string, ClusterTrust>()
  readonly outcomes = new Map<string, TrustOutcome>()
  /** Per cluster: when the intermediate CA of its cacerts expires after this run (ISO time), and what the run did. */
  readonly intermediates = new Map<string, { notAfter: string; outcome: TrustOutcome }>()

  constructor(
    private readonly config: Config,
    private readonly tools: ClusterTools
  ) {}

  get rootCertPem(): string | undefined {
    return this.root?.certPem
  }

  /** Chooses the mesh's root from what every cluster carries (cacerts, the stored root). Throws before any write. */
  async prepare(states: Map<string, ClusterState>): Promise<void> {
    const { mode } = this.config.ca
    if (mode === 'none') return
    for (const c of this.config.clusters) {
      const s = states.get(c.name)
      this.seen.set(c.name, { cacerts: s?.cacerts, storedRoot: s?.storedRoot, istiodRuns: (s?.istiods.length ?? 0) > 0 })
    }
    if (mode === 'provided') {
      this.root = { certPem: this.config.ca.rootCert!, keyPem: this.config.ca.rootKey! }
      this.checkAll(this.root.certPem)
    } else if (mode === 'existing') this.root = { certPem: this.commonExistingRoot() }
    else this.root = await this.generatedRoot()
    this.checkRootExpiry(this.root.certPem)
    if (mode === 'existing') this.checkExistingExpiry()
  }

  async ensure(cluster: string, log: StepLog): Promise<string> {
    const outcome = await this.ensureCacerts(cluster, log)
    this.outcomes.set(cluster, outcome)
    return outcome
  }

  private async ensureCacerts(cluster: string, log: StepLog): Promise<TrustOutcome> {
    if (!this.root) throw new Error('the root of trust was not prepared')
    const seen = this.seen.get(cluster)
    const current = seen?.cacerts
    const currentRoot = current && rootOf(current)
    const extra: KubeObject[] = this.config.ca.mode === 'generate' && this.root.keyPem ? [storedRootSecret(this.root as CaBundle)] : []
    if (this.config.ca.mode === 'existing') {
      // prepare() has checked the chain and the expiry of every cluster's cacerts.
      this.record(cluster, current && intermediateValidity(current), 'checked')
      return 'checked'
    }
    let renewal: string | undefined
    if (
      current &&
      currentRoot &&
      sameCertificate(currentRoot, this.root.certPem) &&
      chainsTo(current['ca-cert.pem'] ?? current['tls.crt'] ?? '', this.root.certPem)
    ) {
      const validity = intermediateValidity(current)
      renewal = this.renewalReason(cluster, validity, log)
      if (!renewal) {
        log(`cacerts chains to the mesh root (${describeCert(this.root.certPem)}): kept${validity ? `; its intermediate CA ${expiry(validity)}` : ''}`)
        if (extra.length) await this.apply(cluster, extra, log)
        this.record(cluster, validity, 'kept')
        return 'kept'
      }
      log(`${renewal}: re-issued from the mesh root`)
    } else if (current && !this.config.ca.rotate) throw new Error(mismatchMessage(cluster, currentRoot, this.root.certPem))
    if (!this.root.keyPem) throw new Error(`${cluster} has no cacerts and the mesh root's key is not available to sign one`)
    const intermediate = await generateIntermediate(this.root as CaBundle, cluster)
    registerSecret(intermediate.keyPem)
    await this.apply(cluster, [cacertsSecret(this.root, intermediate), ...extra], log)
    const outcome: TrustOutcome = !current ? 'created' : renewal ? 'renewed' : 'rotated'
    this.record(cluster, certValidity(intermediate.certPem), outcome)
    if (seen?.istiodRuns) {
      const why = outcome === 'created' ? 'cacerts was created' : outcome === 'renewed' ? "cacerts' intermediate CA was re-issued" : 'cacerts was replaced'
      await this.restartIstiod(cluster, why, log)
    }
    return outcome
  }

  /** Why an intermediate that chains to the mesh root must be re-issued now, or undefined to keep it. */
  private renewalReason(cluster: string, validity: Validity | undefined, log: StepLog): string | undefined {
    if (!validity || validity.notAfter.getTime() - Date.now() > RENEW_WITHIN_DAYS * DAY_MS) return undefined
    const root = certValidity(this.root!.certPem)
    // Intermediates never outlive the root (certs.ts): when the root ends as soon, a new one would gain nothing.
    if (root && root.notAfter.getTime() <= validity.notAfter.getTime() + DAY_MS) {
      log(`cacerts' intermediate CA ${expiry(validity)}, with the mesh root: a new one cannot outlive the root, so it is kept (see the warning about the root)`)
      return undefined
    }
    return `${cluster}: cacerts' intermediate CA ${expiry(validity)}, within ${RENEW_WITHIN_DAYS} days`
  }

  private record(cluster: string, validity: Validity | undefined, outcome: TrustOutcome): void {
    if (validity) this.intermediates.set(cluster, { notAfter: validity.notAfter.toISOString(), outcome })
  }

  private async apply(cluster: string, objects: KubeObject[], log: StepLog): Promise<void> {
    // Keys travel on stdin only: never in argv or in a file.
    await kubectl.apply(this.tools, cluster, toYaml(...objects.map(withEncodedData)), log)
  }

  /**
   * istiod reads cacerts when it starts, and watches it only if it started with one — and then takes a new
   * intermediate, never a new root (pilot/pkg/bootstrap/istio_ca.go@1.30.3 createIstioCA / handleEvent). So every
   * istiod (all revisions) is restarted after cacerts is created or replaced, and the step waits for the rollout:
   * the control plane step after it must find istiod serving from the new cacerts.
   */
  private async restartIstiod(cluster: string, why: string, log: StepLog): Promise<void> {
    const names = await kubectl.getNames(this.tools, cluster, { resource: 'deployment', namespace: ISTIO_NAMESPACE, selector: ISTIOD_SELECTOR }, log)
    if (!names.length) return log('no istiod runs: nothing to restart')
    await restartIstiods(this.tools, cluster, names, 'cacerts is in place; istiod uses it once its new pods are ready', log)
    log(`${cluster}: restarted ${names.join(', ')}: ${why}, and istiod loads a new cacerts only when it starts`)
  }

  /** Throws (before any write) when the mesh root has expired; warns when it expires within ROOT_WARNING_DAYS. */
  private checkRootExpiry(rootPem: string): void {
    const root = certValidity(rootPem)
    if (!root || root.notAfter.getTime() - Date.now() > ROOT_WARNING_DAYS * DAY_MS) return
    const replace = {
      generate: `delete secret ${STORED_ROOT_SECRET} in ${ISTIO_NAMESPACE} of every cluster and re-run with ca-rotate: true (a new root, new intermediates, istiod restarted)`,
      provided: 'pass a new ca-root-cert and ca-root-key with ca-rotate: true (new intermediates, istiod restarted)',
      existing: "re-issue every cluster's cacerts from a new root, or use ca: provided with a new root and ca-rotate: true",
      none: ''
    }[this.config.ca.mode]
    if (root.notAfter.getTime() <= Date.now())
      throw new Error(
        `the mesh root of trust ${expiry(root)}: ${root.description}. istiod refuses to start with it ("x509: certificate has expired or is not yet valid") and no intermediate can be issued under it. To replace it, ${replace}`
      )
    core.warning(
      `the mesh root of trust ${expiry(root)}: ${root.description}. No intermediate can outlive it, and cross-cluster mTLS stops when it expires. Replace it before then: ${replace}`
    )
  }

  /** ca: existing never writes: an intermediate that has expired or expires soon fails the run, naming cluster and date. */
  private checkExistingExpiry(): void {
    for (const [cluster, t] of this.seen) {
      const v = t.cacerts && intermediateValidity(t.cacerts)
      if (v && v.notAfter.getTime() - Date.now() <= RENEW_WITHIN_DAYS * DAY_MS)
        throw new Error(
          `${cluster}: cacerts' intermediate CA ${expiry(v)}: ${v.description}. istiod refuses to start with an expired one ("x509: certificate has expired or is not yet valid"), and ca: existing never re-issues it. ` +
            `Replace cacerts in ${cluster} with one valid for more than ${RENEW_WITHIN_DAYS} days, or use ca: provided with its root's certificate and key (the action then re-issues it and restarts istiod)`
        )
    }
  }

  private checkAll(rootPem: string): void {
    if (this.config.ca.rotate) return
    for (const [cluster, t] of this.seen) {
      const r = t.cacerts && rootOf(t.cacerts)
      if (t.cacerts && !(r && sameCertificate(r, rootPem))) throw new Error(mismatchMessage(cluster, r, rootPem))
    }
  }

  private commonExistingRoot(): string {
    const missing = [...this.seen].filter(([, t]) => !t.cacerts).map(([c]) => c)
    if (missing.length)
      throw new Error(
        `ca: existing, but ${missing.join(', ')} ${missing.length > 1 ? 'have' : 'has'} no secret cacerts in ${ISTIO_NAMESPACE}; create it (Istio's "Plug in CA certificates") or use ca: generate / provided`
      )
    let first: [string, string] | undefined
    for (const [cluster, t] of this.seen) {
      const r = rootOf(t.cacerts!)
      const leaf = t.cacerts!['ca-cert.pem'] ?? t.cacerts!['tls.crt']
      if (!r) throw new Error(`${cluster}: cacerts has no root-cert.pem (or ca.crt)`)
      if (leaf && !chainsTo(leaf, r)) throw new Error(`${cluster}: cacerts' ca-cert.pem is not signed by its own root-cert.pem (${describeCert(r)})`)
      if (!first) first = [cluster, r]
      else if (!sameCertificate(first[1], r))
        throw new Error(
          `ca: existing, but the clusters have different roots of trust: ${first[0]} has ${describeCert(first[1])}, ${cluster} has ${describeCert(r)}. Cross-cluster mTLS would fail (CERTIFICATE_VERIFY_FAILED); re-issue cacerts from one root`
        )
    }
    return first![1]
  }

  /** ca: generate — reuse the root stored in the members, so a re-run or a new cluster stays in the same mesh. */
  private async generatedRoot(): Promise<CaBundle> {
    const stored = [...this.seen].filter(([, t]) => t.storedRoot)
    for (const [cluster, t] of stored.slice(1))
      if (!sameCertificate(t.storedRoot!.certPem, stored[0][1].storedRoot!.certPem))
        throw new Error(
          `the clusters keep two different mesh roots (${stored[0][0]}: ${describeCert(stored[0][1].storedRoot!.certPem)}; ${cluster}: ${describeCert(t.storedRoot!.certPem)}): they belong to two meshes. Uninstall one, or use ca: provided with the root to keep and ca-rotate: true`
        )
    if (stored.length) {
      const root = stored[0][1].storedRoot!
      registerSecret(root.keyPem)
      this.checkAll(root.certPem)
      return root
    }
    const foreign = [...this.seen].filter(([, t]) => t.cacerts)
    if (foreign.length && !this.config.ca.rotate) {
      const r = rootOf(foreign[0][1].cacerts!)
      throw new Error(
        `${foreign.map(([c]) => c).join(', ')} already ${foreign.length > 1 ? 'have' : 'has'} a cacerts (root ${r ? describeCert(r) : 'unknown'}) that this action did not generate, and its root key is not stored in the mesh. Use ca: existing if every cluster has one, ca: provided with that root's certificate and key, or ca-rotate: true to replace it with a new root`
      )
    }
    const root = await generateRoot({ meshId: this.config.meshId })
    registerSecret(root.keyPem)
    return root
  }
}

function storedRootSecret(root: CaBundle): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: STORED_ROOT_SECRET, namespace: ISTIO_NAMESPACE, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    stringData: { 'root-cert.pem': root.certPem, 'root-key.pem': root.keyPem }
  }
}

function mismatchMessage(cluster: string, currentRoot: string | undefined, wanted: string): string {
  return (
    `${cluster}: secret cacerts in ${ISTIO_NAMESPACE} does not chain to the mesh root (it has ${currentRoot ? describeCert(currentRoot) : 'no root-cert.pem'}; the mesh root is ${describeCert(wanted)}). ` +
    `It was left unchanged. To replace it with an intermediate of the mesh root, re-run with ca-rotate: true (istiod is restarted; workloads get new certificates as they renew), or use ca: existing / provided with the root it chains to`
  )
}
