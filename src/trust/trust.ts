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
  intermediateValidity,
  rootOf,
  sameCertificate,
  type Validity
} from './certs.js'
import { ClusterTrust, DAY_MS, MeshRoot, RENEW_WITHIN_DAYS, chooseRoot, expiry, mismatchMessage } from './root.js'

export type TrustOutcome = 'created' | 'kept' | 'renewed' | 'rotated' | 'checked'

/**
 * Decides the mesh's one root before any cluster changes, then gives each cluster a `cacerts` that chains to it.
 * Never replaces a cacerts silently: one that chains elsewhere fails the run unless `ca-rotate` is true.
 */
export class TrustManager {
  private root?: MeshRoot
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
    if (this.config.ca.mode === 'none') return
    // A remote has no istiod, so no CA: its workloads' certificates come from its primary's istiod.
    for (const c of this.config.clusters.filter((x) => x.role !== 'remote')) {
      const s = states.get(c.name)
      this.seen.set(c.name, {
        cacerts: s?.cacerts,
        storedRoot: s?.storedRoot,
        istiodRuns: (s?.istiods.length ?? 0) > 0
      })
    }
    this.root = await chooseRoot(this.config, this.seen)
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
    const extra: KubeObject[] =
      this.config.ca.mode === 'generate' && this.root.keyPem ? [storedRootSecret(this.root)] : []
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
        log(
          `cacerts chains to the mesh root (${describeCert(this.root.certPem)}): kept${validity ? `; its intermediate CA ${expiry(validity)}` : ''}`
        )
        if (extra.length) await this.apply(cluster, extra, log)
        this.record(cluster, validity, 'kept')
        return 'kept'
      }
      log(`${renewal}: re-issued from the mesh root`)
    } else if (current && !this.config.ca.rotate)
      throw new Error(mismatchMessage(cluster, currentRoot, this.root.certPem))
    if (!this.root.keyPem)
      throw new Error(`${cluster} has no cacerts and the mesh root's key is not available to sign one`)
    const intermediate = await generateIntermediate(this.root, cluster)
    registerSecret(intermediate.keyPem)
    await this.apply(cluster, [cacertsSecret(this.root, intermediate), ...extra], log)
    const outcome: TrustOutcome = !current ? 'created' : renewal ? 'renewed' : 'rotated'
    this.record(cluster, certValidity(intermediate.certPem), outcome)
    if (seen?.istiodRuns) {
      const why =
        outcome === 'created'
          ? 'cacerts was created'
          : outcome === 'renewed'
            ? "cacerts' intermediate CA was re-issued"
            : 'cacerts was replaced'
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
      log(
        `cacerts' intermediate CA ${expiry(validity)}, with the mesh root: a new one cannot outlive the root, so it is kept (see the warning about the root)`
      )
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
    const names = await kubectl.getNames(
      this.tools,
      cluster,
      { resource: 'deployment', namespace: ISTIO_NAMESPACE, selector: ISTIOD_SELECTOR },
      log
    )
    if (!names.length) return log('no istiod runs: nothing to restart')
    await restartIstiods(
      this.tools,
      cluster,
      names,
      'cacerts is in place; istiod uses it once its new pods are ready',
      log
    )
    log(`${cluster}: restarted ${names.join(', ')}: ${why}, and istiod loads a new cacerts only when it starts`)
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
