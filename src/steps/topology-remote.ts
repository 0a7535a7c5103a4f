// The steps that depend on the topology (istio.io "Install Multi-Primary", "Install Primary-Remote" and "… on
// different networks"): which clusters get an east-west gateway, which expose services or istiod, and a remote's own
// sequence. buildInstallPlan (install-plan.ts) calls these; the multi-primary multi-network mesh is the case where
// every cluster is a primary on its own network.
import { Config, ClusterConfig } from '../config/index.js'
import { exposesServices, needsEastWestGateway, remotesOf, secretTargets } from '../config/topology.js'
import { EASTWEST_GATEWAY, ISTIO_FIELD_MANAGER } from '../istio-names.js'
import { Semver, formatSemver } from '../istioctl/version.js'
import { gatewayService } from '../manifests/gateway-service.js'
import { eastWestGateway, readinessWaits } from '../manifests/istio-operator.js'
import { crossNetworkGateway, toYaml } from '../manifests/kubernetes.js'
import { exposeIstiod, remoteControlPlane, remoteNamespace } from '../manifests/remote.js'
import type { StepKind } from './registry.js'
import { Step, StepAction, stepId } from './step.js'

export type ClusterStepFn = (
  c: ClusterConfig,
  kind: StepKind,
  title: string,
  needs: string[],
  action: StepAction,
  order?: Pick<Step, 'after' | 'always'>
) => Step

/**
 * After the control plane: the east-west gateway and its address where the topology needs one, expose-services on a
 * primary with peers on other networks, expose-istiod on a primary that serves remotes, and the remote secret of a
 * cluster some primary reads.
 */
export function gatewayAndSecretSteps(
  config: Config,
  c: ClusterConfig,
  version: Semver,
  step: ClusterStepFn,
  gatewayServices: ReadonlySet<string> = new Set()
): Step[] {
  const steps: Step[] = []
  const add = (...args: Parameters<ClusterStepFn>) => steps.push(step(...args))
  const controlPlane = stepId(c.name, 'control-plane')
  if (needsEastWestGateway(config.clusters, c)) {
    const gateway = eastWestGateway({
      network: c.network,
      hub: config.hub,
      revision: config.revision,
      serviceAnnotations: config.gatewayServiceAnnotations
    })
    // A remote's gateway pods are injected by its primary's istiod, which patches the remote's webhook once it holds
    // the remote's secret.
    const injector = c.role === 'remote' ? [stepId(c.primary!, 'remote-secrets-in')] : []
    // The load balancer first (install-plan.ts): only the namespace before it, so it provisions while istiod installs.
    add(
      c,
      'gateway-service',
      `load balancer first (${EASTWEST_GATEWAY} Service)`,
      [stepId(c.name, 'namespace')],
      gatewayServices.has(c.name)
        ? { type: 'none', value: `unchanged: ${EASTWEST_GATEWAY} exists` }
        : {
            type: 'server-side-apply',
            manifest: toYaml(gatewayService(gateway, formatSemver(version))),
            fieldManager: ISTIO_FIELD_MANAGER
          }
    )
    add(
      c,
      'eastwest-gateway',
      'east-west gateway',
      [controlPlane, ...injector],
      { type: 'istioctl-install', iop: toYaml(gateway), readinessWaits: readinessWaits(gateway) },
      { after: [stepId(c.name, 'gateway-service')] }
    )
    add(c, 'gateway-address', 'gateway address', [stepId(c.name, 'eastwest-gateway')], {
      type: 'wait-gateway-address',
      timeoutMs: config.gatewayTimeoutMs
    })
  }
  // An address is not a working gateway (issue 14): each cluster probes, in one pod, the gateways of its peers on
  // other networks until they forward. Also after its own control plane: a cluster whose install failed probes
  // nothing (its API server may be what failed: a hanging watch would hold the probe's wait to gateway-timeout).
  const probed = config.clusters
    .filter((p) => p.name !== c.name && p.network !== c.network && needsEastWestGateway(config.clusters, p))
    .map((p) => p.name)
  if (probed.length)
    add(
      c,
      'gateway-forwarding',
      `peers' gateways forward (${probed.join(', ')})`,
      [controlPlane, ...probed.map((p) => stepId(p, 'gateway-address'))],
      { type: 'wait-gateway-forwarding', peers: probed, timeoutMs: config.gatewayTimeoutMs }
    )
  if (exposesServices(config.clusters, c))
    add(
      c,
      'expose-services',
      'expose services (cross-network-gateway)',
      [controlPlane],
      { type: 'apply', manifest: toYaml(crossNetworkGateway(version)) },
      { after: [stepId(c.name, 'eastwest-gateway')] }
    )
  const remotes = c.role === 'remote' ? [] : remotesOf(config.clusters, c.name)
  if (remotes.length)
    add(
      c,
      'expose-istiod',
      `expose istiod to ${remotes.map((r) => r.name).join(', ')} (istiod-gateway)`,
      [controlPlane],
      { type: 'apply', manifest: toYaml(...exposeIstiod(version, config.revision)) },
      { after: [stepId(c.name, 'eastwest-gateway')] }
    )
  if (secretTargets(config.clusters, c).length)
    add(
      c,
      'remote-secret',
      'create remote secret',
      [stepId(c.name, 'namespace')],
      { type: 'create-remote-secret', server: c.apiServer },
      { after: [controlPlane] }
    )
  return steps
}

/**
 * A remote ("Configure cluster2 as a remote"): istio-system annotated with its primary, then `profile: remote`
 * pointing at the primary's east-west gateway, once that gateway has an address and exposes istiod.
 */
export function remoteControlPlaneSteps(config: Config, c: ClusterConfig, step: ClusterStepFn): Step[] {
  const primary = c.primary!
  const iop = remoteControlPlane({
    clusterName: c.name,
    network: c.network,
    hub: config.hub,
    revision: config.revision
  })
  return [
    step(c, 'namespace', `namespace istio-system, network ${c.network}, control plane ${primary}`, [], {
      type: 'apply',
      manifest: toYaml(remoteNamespace(c.network, primary))
    }),
    step(
      c,
      'control-plane',
      `control plane (istioctl install, profile remote, served by ${primary})`,
      [stepId(c.name, 'namespace'), stepId(primary, 'gateway-address'), stepId(primary, 'expose-istiod')],
      {
        type: 'istioctl-install-remote',
        iop: toYaml(iop),
        readinessWaits: readinessWaits(iop),
        primary,
        timeoutMs: config.gatewayTimeoutMs
      }
    )
  ]
}
