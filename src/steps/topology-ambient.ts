// The ambient topology's steps in one cluster ("Install ambient multi-primary on different networks", Istio 1.29–1.31):
// namespace → Gateway API CRDs (when missing) → (root of trust →) ambient control plane → east-west Gateway → its
// address; and the remote secret as in the sidecar topology. install-plan.ts adds the rest (remote secrets in, prune,
// verification) for both.
import { ClusterConfig, Config } from '../config/index.js'
import { needsEastWestGateway } from '../config/data-plane.js'
import { EASTWEST_GATEWAY, GATEWAY_API_GATEWAYS_CRD, ISTIO_NAMESPACE } from '../istio-names.js'
import {
  GATEWAY_API_VERSION,
  ambientControlPlane,
  ambientEastWestGateway,
  gatewayApiCrds
} from '../manifests/ambient.js'
import { toYaml } from '../manifests/kubernetes.js'
import { clusterStep, controlPlaneSequence } from './install-plan.js'
import { Step, stepId } from './step.js'

export function ambientClusterSteps(config: Config, c: ClusterConfig): Step[] {
  const steps: Step[] = []
  const add = (...args: Parameters<typeof clusterStep>) => steps.push(clusterStep(...args))
  const iop = ambientControlPlane({
    meshId: config.meshId,
    clusterName: c.name,
    network: c.network,
    hub: config.hub,
    revision: config.revision,
    overlay: config.operatorOverlay
  })
  // Before istiod: it watches the Gateway API kinds it finds when it starts (pkg/kube/kclient/crdwatcher.go).
  const crds = clusterStep(
    c,
    'gateway-api-crds',
    `Gateway API CRDs ${GATEWAY_API_VERSION} (standard), unless ${GATEWAY_API_GATEWAYS_CRD} exists`,
    [],
    {
      type: 'apply-if-missing',
      probe: { resource: 'customresourcedefinitions', name: GATEWAY_API_GATEWAYS_CRD },
      manifest: gatewayApiCrds()
    }
  )
  const title = 'ambient control plane (istioctl install, profile ambient, AMBIENT_ENABLE_MULTI_NETWORK)'
  steps.push(...controlPlaneSequence(config, c, title, iop, [crds]))
  // Clusters that share every network need none: their ztunnels reach each other's pods directly.
  if (needsEastWestGateway(c, config.clusters)) {
    const gateway = ambientEastWestGateway({
      network: c.network,
      revision: config.revision,
      serviceAnnotations: config.gatewayServiceAnnotations
    })
    add(
      c,
      'eastwest-gateway',
      'east-west Gateway (class istio-east-west, HBONE 15008)',
      [stepId(c.name, 'control-plane')],
      {
        type: 'apply',
        manifest: toYaml(gateway)
      }
    )
    add(c, 'gateway-address', 'gateway address', [stepId(c.name, 'eastwest-gateway')], {
      type: 'wait-gateway-address',
      timeoutMs: config.gatewayTimeoutMs
    })
  }
  add(
    c,
    'remote-secret',
    'create remote secret',
    [stepId(c.name, 'namespace')],
    { type: 'create-remote-secret', server: c.apiServer },
    { after: [stepId(c.name, 'control-plane')] }
  )
  return steps
}

/** mode: uninstall, ambient: the Gateway (its Deployment and Service go with it), then the CRDs the action added. */
export function ambientUninstallSteps(config: Config): Step[] {
  return config.clusters.flatMap((c) => [
    clusterStep(c, 'remove-eastwest-gateway', 'remove the east-west Gateway', [], {
      type: 'delete-if-served',
      // The Gateway kind is served under its CRD's name.
      target: { resource: GATEWAY_API_GATEWAYS_CRD, names: [EASTWEST_GATEWAY], namespace: ISTIO_NAMESPACE }
    }),
    clusterStep(
      c,
      'remove-gateway-api-crds',
      'remove the Gateway API CRDs the action installed, unless in use',
      [stepId(c.name, 'remove-eastwest-gateway'), stepId(c.name, 'uninstall')],
      { type: 'remove-own-gateway-api-crds' }
    )
  ])
}
