import { Config, ClusterConfig } from '../config/index.js'
import { ISTIO_NAMESPACE } from '../istio-names.js'
import { Semver } from '../istioctl/version.js'
import { controlPlane, eastWestGateway, readinessWaits } from '../manifests/istio-operator.js'
import { VERIFY_NAMESPACE, helloworldVersion, verifyWorkloads } from '../manifests/helloworld.js'
import { crossNetworkGateway, istioNamespace, toYaml } from '../manifests/kubernetes.js'
import type { StepKind } from './registry.js'
import { Step, StepAction, stepId } from './step.js'

/**
 * The guide's sequence per cluster, as a graph so clusters proceed side by side. The critical path of a cluster is
 * namespace → (root of trust →) control plane → east-west gateway → address, and the mesh waits for its slowest
 * cluster's. Everything else has slack, so it is ordered (`after`, not `needs`) behind the istioctl installs, which
 * are what keeps a runner's cores busy: with N control planes installing at once, N create-remote-secret processes
 * and N kubectl re-discoveries of the new CRDs on top only slow down the slowest install. A cluster creates its
 * remote secret once its control plane has finished (the secret itself only needs the namespace: a failed control
 * plane does not stop the exchange) and exposes its services once its gateway install has finished, while the load
 * balancer assigns the address.
 */
export function buildInstallPlan(
  config: Config,
  version: Semver,
  stale: Map<string, { name: string }[]> = new Map()
): Step[] {
  const steps: Step[] = []
  const add = (...args: Parameters<typeof clusterStep>) => steps.push(clusterStep(...args))
  const trust = config.ca.mode !== 'none'

  for (const c of config.clusters) {
    add(c, 'namespace', `namespace istio-system, network ${c.network}`, [], {
      type: 'apply',
      manifest: toYaml(istioNamespace(c.network))
    })
    if (trust)
      add(c, 'root-of-trust', `root of trust (cacerts, ca: ${config.ca.mode})`, [stepId(c.name, 'namespace')], {
        type: 'root-of-trust'
      })
    const iop = controlPlane({
      meshId: config.meshId,
      clusterName: c.name,
      network: c.network,
      hub: config.hub,
      revision: config.revision,
      overlay: config.operatorOverlay
    })
    add(
      c,
      'control-plane',
      'control plane (istioctl install)',
      [stepId(c.name, trust ? 'root-of-trust' : 'namespace')],
      {
        type: 'istioctl-install',
        iop: toYaml(iop),
        readinessWaits: readinessWaits(iop)
      }
    )
    const gateway = eastWestGateway({
      network: c.network,
      hub: config.hub,
      revision: config.revision,
      serviceAnnotations: config.gatewayServiceAnnotations
    })
    add(c, 'eastwest-gateway', 'east-west gateway', [stepId(c.name, 'control-plane')], {
      type: 'istioctl-install',
      iop: toYaml(gateway),
      readinessWaits: readinessWaits(gateway)
    })
    add(c, 'gateway-address', 'gateway address', [stepId(c.name, 'eastwest-gateway')], {
      type: 'wait-gateway-address',
      timeoutMs: config.gatewayTimeoutMs
    })
    // An address is not a working gateway: peers on other networks probe it until it forwards (issue 14).
    const remote = config.clusters.filter((p) => p.name !== c.name && p.network !== c.network).map((p) => p.name)
    if (remote.length)
      add(
        c,
        'gateway-forwarding',
        `gateway forwards (from ${remote.join(', ')})`,
        [stepId(c.name, 'gateway-address')],
        {
          type: 'wait-gateway-forwarding',
          peers: remote,
          timeoutMs: config.gatewayTimeoutMs
        }
      )
    add(
      c,
      'expose-services',
      'expose services (cross-network-gateway)',
      [stepId(c.name, 'control-plane')],
      { type: 'apply', manifest: toYaml(crossNetworkGateway(version)) },
      { after: [stepId(c.name, 'eastwest-gateway')] }
    )
    add(
      c,
      'remote-secret',
      'create remote secret',
      [stepId(c.name, 'namespace')],
      { type: 'create-remote-secret', server: c.apiServer },
      { after: [stepId(c.name, 'control-plane')] }
    )
  }
  for (const c of config.clusters) {
    const sources = config.clusters.filter((s) => s.name !== c.name).map((s) => s.name)
    // After its own control plane: a changed secret may need its istiod restarted (kube/istiod.ts), and that must be
    // the istiod this run leaves behind, not one an install in progress is about to replace.
    add(
      c,
      'remote-secrets-in',
      `remote secrets of ${sources.join(', ')}`,
      [stepId(c.name, 'namespace'), ...sources.map((s) => stepId(s, 'remote-secret'))],
      { type: 'apply-remote-secrets', sources },
      { after: [stepId(c.name, 'control-plane')] }
    )
  }
  if (config.prune)
    for (const c of config.clusters) {
      const names = stale.get(c.name)?.map((x) => x.name) ?? []
      if (names.length)
        add(c, 'prune-remote-secrets', `prune remote secrets ${names.join(', ')}`, [stepId(c.name, 'namespace')], {
          type: 'delete',
          target: { resource: 'secret', names, namespace: ISTIO_NAMESPACE }
        })
    }
  if (config.verify.mode !== 'none') addVerification(config, steps)
  return steps
}

/**
 * remote-clusters in every cluster as soon as what it reports on is in place; with `verify: traffic` also helloworld
 * (v1, v2, … spread over the clusters) and curl once everything is installed, a call from every cluster until every
 * version answered, then cleanup.
 */
function addVerification(config: Config, steps: Step[]): void {
  const installed = steps.map((s) => s.id)
  const { timeoutMs } = config.verify
  const traffic = config.verify.mode === 'traffic'
  const versions = [...new Set(config.clusters.map((_, i) => helloworldVersion(i)))]
  const add = (...args: Parameters<typeof clusterStep>) => steps.push(clusterStep(...args))
  for (const c of config.clusters) {
    const peers = config.clusters.filter((p) => p.name !== c.name).map((p) => p.name)
    // `istioctl remote-clusters` shows what this cluster's istiod made of the remote secrets in it: it needs istiod and
    // those secrets, no gateway. Waiting for everything would put the check behind the slowest cluster's address.
    const needs = (['control-plane', 'remote-secrets-in', 'prune-remote-secrets'] as StepKind[])
      .map((k) => stepId(c.name, k))
      .filter((id) => installed.includes(id))
    add(c, 'verify', `verify: ${peers.join(', ')} synced`, needs, { type: 'verify-remote-clusters', peers, timeoutMs })
  }
  if (!traffic) return
  for (const [i, c] of config.clusters.entries())
    add(c, 'verify-deploy', `verify: deploy helloworld ${helloworldVersion(i)} and curl`, installed, {
      type: 'apply',
      manifest: toYaml(...verifyWorkloads(helloworldVersion(i), config.verify.images, config.revision))
    })
  const deployed = config.clusters.map((c) => stepId(c.name, 'verify-deploy'))
  for (const c of config.clusters)
    add(
      c,
      'verify-traffic',
      `verify: helloworld ${versions.join(', ')} answer`,
      [...deployed, stepId(c.name, 'verify')],
      {
        type: 'verify-traffic',
        versions,
        timeoutMs
      }
    )
  if (config.verify.keep) return
  const checked = config.clusters.map((c) => stepId(c.name, 'verify-traffic'))
  for (const c of config.clusters)
    add(
      c,
      'verify-cleanup',
      `verify: remove namespace ${VERIFY_NAMESPACE}`,
      checked,
      { type: 'delete-namespace', namespace: VERIFY_NAMESPACE },
      { always: true }
    )
}

/** One step of cluster c; `order` puts it `after` other steps or makes it a cleanup that runs `always`. */
function clusterStep(
  c: ClusterConfig,
  kind: StepKind,
  title: string,
  needs: string[],
  action: StepAction,
  order: Pick<Step, 'after' | 'always'> = {}
): Step {
  return { id: stepId(c.name, kind), cluster: c.name, kind, title, needs, ...order, action }
}

/** Every ordered pair (source, target) whose remote secret the plan applies. */
export function remoteSecretPairs(steps: Step[]): [string, string][] {
  return steps.flatMap((s) =>
    s.action.type === 'apply-remote-secrets' ? s.action.sources.map((src): [string, string] => [src, s.cluster]) : []
  )
}
