import { Config, ClusterConfig } from '../config/index.js'
import { EASTWEST_GATEWAY, ISTIO_NAMESPACE } from '../istio-names.js'
import { Semver } from '../istioctl/version.js'
import { primaries, remotesOf, secretSources } from '../config/topology.js'
import { IstioOperator, controlPlane, readinessWaits } from '../manifests/istio-operator.js'
import { VERIFY_NAMESPACE, helloworldVersion, verifyWorkloads } from '../manifests/helloworld.js'
import { istioNamespace, toYaml } from '../manifests/kubernetes.js'
import type { StepKind } from './registry.js'
import { Step, StepAction, stepId } from './step.js'
import { ambientClusterSteps } from './topology-ambient.js'
import { gatewayAndSecretSteps, remoteControlPlaneSteps } from './topology-remote.js'

/**
 * The guide's sequence per cluster, as a graph so clusters proceed side by side. The critical path of a cluster is
 * namespace → (root of trust →) control plane → east-west gateway → address, and the mesh waits for its slowest
 * cluster's. Everything else has slack, so it is ordered (`after`, not `needs`) behind the istioctl installs, which
 * are what keeps a runner's cores busy: with N control planes installing at once, N create-remote-secret processes
 * and N kubectl re-discoveries of the new CRDs on top only slow down the slowest install. A cluster creates its
 * remote secret once its control plane has finished (the secret itself only needs the namespace: a failed control
 * plane does not stop the exchange) and exposes its services once its gateway install has finished, while the load
 * balancer assigns the address.
 *
 * The load balancer is not on that path: right after its namespace, a cluster gets the east-west gateway's Service as
 * the gateway install will apply it (manifests/gateway-service.ts), so the cloud provisions it while istiod installs,
 * and the install takes it over. `gatewayServices`: the clusters where that Service exists already (nothing to do).
 * A Service this run created goes again if the gateway install does not succeed: no billed load balancer is left
 * behind by a failed run.
 */
export function buildInstallPlan(
  config: Config,
  version: Semver,
  stale: Map<string, { name: string }[]> = new Map(),
  gatewayServices: ReadonlySet<string> = new Set()
): Step[] {
  const steps: Step[] = []
  const add = (...args: Parameters<typeof clusterStep>) => steps.push(clusterStep(...args))

  for (const c of config.clusters) {
    // Ambient has no remote (topology.ts refuses one with data-plane: ambient), and no gateway-service step: its
    // east-west Gateway's Service is istiod's deployment controller's, which leaves alone a Service it did not label.
    if (config.dataPlane === 'ambient') {
      steps.push(...ambientClusterSteps(config, c))
      continue
    }
    if (c.role === 'remote') {
      steps.push(...remoteControlPlaneSteps(config, c, clusterStep))
      steps.push(...gatewayAndSecretSteps(config, c, version, clusterStep, gatewayServices))
      continue
    }
    const iop = controlPlane({
      meshId: config.meshId,
      clusterName: c.name,
      network: c.network,
      hub: config.hub,
      revision: config.revision,
      overlay: config.operatorOverlay,
      externalIstiod: remotesOf(config.clusters, c.name).length > 0
    })
    steps.push(...controlPlaneSequence(config, c, 'control plane (istioctl install)', iop))
    steps.push(...gatewayAndSecretSteps(config, c, version, clusterStep, gatewayServices))
  }
  for (const c of primaries(config.clusters)) {
    const sources = secretSources(config.clusters, c).map((s) => s.name)
    if (!sources.length) continue
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
  for (const c of config.clusters)
    if (steps.some((x) => x.id === stepId(c.name, 'gateway-service') && x.action.type === 'server-side-apply'))
      add(
        c,
        'remove-gateway-service',
        `remove the ${EASTWEST_GATEWAY} Service unless the gateway install succeeded`,
        [stepId(c.name, 'gateway-service'), stepId(c.name, 'eastwest-gateway')],
        {
          type: 'remove-unclaimed',
          target: { resource: 'service', names: [EASTWEST_GATEWAY], namespace: ISTIO_NAMESPACE },
          unless: stepId(c.name, 'eastwest-gateway'),
          reason: 'the east-west gateway install did not succeed'
        },
        { always: true }
      )
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
  for (const c of primaries(config.clusters)) {
    // A remote has no istiod to ask; its primary reports it.
    const peers = secretSources(config.clusters, c).map((p) => p.name)
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
      manifest: toYaml(
        ...verifyWorkloads(helloworldVersion(i), config.verify.images, config.revision, config.dataPlane)
      )
    })
  const deployed = config.clusters.map((c) => stepId(c.name, 'verify-deploy'))
  for (const c of config.clusters)
    add(
      c,
      'verify-traffic',
      `verify: helloworld ${versions.join(', ')} answer`,
      [...deployed, stepId(c.role === 'remote' ? c.primary! : c.name, 'verify')],
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
/**
 * namespace → (root of trust →) control plane in a primary, as both topologies plan it. `between`: steps that follow
 * the namespace and that the control plane also needs (ambient's Gateway API CRDs); they come before the root of trust.
 */
export function controlPlaneSequence(
  config: Config,
  c: ClusterConfig,
  title: string,
  iop: IstioOperator,
  between: Step[] = []
): Step[] {
  const trust = config.ca.mode !== 'none'
  const steps = [
    clusterStep(c, 'namespace', `namespace istio-system, network ${c.network}`, [], {
      type: 'apply',
      manifest: toYaml(istioNamespace(c.network))
    }),
    ...between
  ]
  if (trust)
    steps.push(
      clusterStep(c, 'root-of-trust', `root of trust (cacerts, ca: ${config.ca.mode})`, [stepId(c.name, 'namespace')], {
        type: 'root-of-trust'
      })
    )
  const needs = [stepId(c.name, trust ? 'root-of-trust' : 'namespace'), ...between.map((s) => s.id)]
  steps.push(
    clusterStep(c, 'control-plane', title, needs, {
      type: 'istioctl-install',
      iop: toYaml(iop),
      readinessWaits: readinessWaits(iop)
    })
  )
  return steps
}

export function clusterStep(
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
