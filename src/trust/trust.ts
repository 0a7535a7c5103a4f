import { Config } from '../config.js'
import { ISTIO_NAMESPACE, KubeObject, toYaml, withEncodedData } from '../manifests/kubernetes.js'
import { registerSecret } from '../secrets.js'
import { ClusterState, STORED_ROOT_SECRET } from '../state.js'
import { ClusterTools, StepLog } from '../tools.js'
import { CaBundle, cacertsSecret, chainsTo, describeCert, generateIntermediate, generateRoot, rootOf, sameCertificate } from './certs.js'

type ClusterTrust = Pick<ClusterState, 'cacerts' | 'storedRoot'>

export type TrustOutcome = 'created' | 'kept' | 'rotated' | 'checked'

/**
 * Decides the mesh's one root before any cluster changes, then gives each cluster a `cacerts` that chains to it.
 * Never replaces a cacerts silently: one that chains elsewhere fails the run unless `ca-rotate` is true.
 */
export class TrustManager {
  private root?: CaBundle | { certPem: string; keyPem?: undefined }
  private readonly seen = new Map<string, ClusterTrust>()
  readonly outcomes = new Map<string, TrustOutcome>()

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
    for (const c of this.config.clusters) this.seen.set(c.name, { cacerts: states.get(c.name)?.cacerts, storedRoot: states.get(c.name)?.storedRoot })
    if (mode === 'provided') {
      this.root = { certPem: this.config.ca.rootCert!, keyPem: this.config.ca.rootKey! }
      this.checkAll(this.root.certPem)
    } else if (mode === 'existing') this.root = { certPem: this.commonExistingRoot() }
    else this.root = await this.generatedRoot()
  }

  async ensure(cluster: string, log: StepLog): Promise<string> {
    const outcome = await this.ensureCacerts(cluster, log)
    this.outcomes.set(cluster, outcome)
    return outcome
  }

  private async ensureCacerts(cluster: string, log: StepLog): Promise<TrustOutcome> {
    if (!this.root) throw new Error('the root of trust was not prepared')
    const current = this.seen.get(cluster)?.cacerts
    const currentRoot = current && rootOf(current)
    const extra: KubeObject[] = this.config.ca.mode === 'generate' && this.root.keyPem ? [storedRootSecret(this.root as CaBundle)] : []
    if (this.config.ca.mode === 'existing') return 'checked'
    if (
      current &&
      currentRoot &&
      sameCertificate(currentRoot, this.root.certPem) &&
      chainsTo(current['ca-cert.pem'] ?? current['tls.crt'] ?? '', this.root.certPem)
    ) {
      log(`cacerts chains to the mesh root (${describeCert(this.root.certPem)}): kept`)
      if (extra.length) await this.apply(cluster, extra, log)
      return 'kept'
    }
    if (current && !this.config.ca.rotate) throw new Error(mismatchMessage(cluster, currentRoot, this.root.certPem))
    if (!this.root.keyPem) throw new Error(`${cluster} has no cacerts and the mesh root's key is not available to sign one`)
    const intermediate = await generateIntermediate(this.root as CaBundle, cluster)
    registerSecret(intermediate.keyPem)
    await this.apply(cluster, [cacertsSecret(this.root, intermediate), ...extra], log)
    if (!current) return 'created'
    await this.restartIstiod(cluster, log)
    return 'rotated'
  }

  private async apply(cluster: string, objects: KubeObject[], log: StepLog): Promise<void> {
    // Keys travel on stdin only: never in argv or in a file.
    await this.tools.kubectl(cluster, ['apply', '-f', '-'], log, { stdin: toYaml(...objects.map(withEncodedData)), retry: true, timeoutMs: 120_000 })
  }

  /** A replaced cacerts is only read when istiod starts. */
  private async restartIstiod(cluster: string, log: StepLog): Promise<void> {
    const r = await this.tools.kubectl(cluster, ['get', 'deployment', '-n', ISTIO_NAMESPACE, '-l', 'app=istiod', '-o', 'name'], log, { retry: true })
    for (const name of r.stdout.split('\n').filter(Boolean))
      await this.tools.kubectl(cluster, ['rollout', 'restart', name, '-n', ISTIO_NAMESPACE], log, { retry: true })
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
    metadata: { name: STORED_ROOT_SECRET, namespace: ISTIO_NAMESPACE, labels: { 'app.kubernetes.io/managed-by': 'istio-multicluster-action' } },
    stringData: { 'root-cert.pem': root.certPem, 'root-key.pem': root.keyPem }
  }
}

function mismatchMessage(cluster: string, currentRoot: string | undefined, wanted: string): string {
  return (
    `${cluster}: secret cacerts in ${ISTIO_NAMESPACE} does not chain to the mesh root (it has ${currentRoot ? describeCert(currentRoot) : 'no root-cert.pem'}; the mesh root is ${describeCert(wanted)}). ` +
    `It was left unchanged. To replace it with an intermediate of the mesh root, re-run with ca-rotate: true (istiod is restarted; workloads get new certificates as they renew), or use ca: existing / provided with the root it chains to`
  )
}
