// The ambient topology's objects ("Install ambient multi-primary on different networks", Istio 1.29–1.31).
import { readFileSync } from 'node:fs'
import * as yaml from 'js-yaml'
import {
  AMBIENT_MULTI_NETWORK_ENV,
  EASTWEST_GATEWAY,
  EASTWEST_GATEWAY_CLASS,
  ISTIO_NAMESPACE,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  NETWORK_LABEL,
  REVISION_LABEL
} from '../istio-names.js'
import { ControlPlaneParams, IstioOperator, controlPlane } from './istio-operator.js'
import { KubeObject } from './kubernetes.js'
import { deepMerge } from './merge.js'

/**
 * The page's cluster1.yaml: `profile: ambient` (base, istiod, istio-cni, ztunnel; manifests/profiles/ambient.yaml)
 * with AMBIENT_ENABLE_MULTI_NETWORK on istiod, which serves the istio-east-west GatewayClass and reads remote
 * clusters' east-west Gateways only then (pilot/pkg/features/ambient.go, gatewaycommon/classinfo.go @1.30.3). The
 * overlay's own pilot env stays; the profile and that variable are the action's.
 */
export function ambientControlPlane(p: ControlPlaneParams): IstioOperator {
  const iop = controlPlane(p)
  const spec = iop.spec as { components?: { pilot?: { k8s?: { env?: { name: string }[] } } } }
  const env = (spec.components?.pilot?.k8s?.env ?? []).filter((e) => e?.name !== AMBIENT_MULTI_NETWORK_ENV)
  return deepMerge(iop, {
    spec: {
      profile: 'ambient',
      components: { pilot: { k8s: { env: [...env, { name: AMBIENT_MULTI_NETWORK_ENV, value: 'true' }] } } }
    }
  })
}

export interface AmbientGatewayParams {
  network: string
  revision?: string
  serviceAnnotations?: Record<string, string>
}

/**
 * What `samples/multicluster/gen-eastwest-gateway.sh --network <n> --ambient` prints (1.29.6–1.31.0-rc.0): a Gateway
 * API Gateway of class istio-east-west with one HBONE listener on 15008 ("double HBONE"). istiod's deployment
 * controller turns it into the Deployment and LoadBalancer Service `istio-eastwestgateway`. The script ignores
 * --revision with --ambient; the page's kubectl tab says to label the Gateway `istio.io/rev` for a revisioned istiod,
 * which is what the action does. Service annotations go through spec.infrastructure (Gateway API ≥ 1.1), which the
 * deployment controller copies onto every object it renders.
 */
export function ambientEastWestGateway(p: AmbientGatewayParams): KubeObject {
  const annotations =
    p.serviceAnnotations && Object.keys(p.serviceAnnotations).length ? p.serviceAnnotations : undefined
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: {
      name: EASTWEST_GATEWAY,
      namespace: ISTIO_NAMESPACE,
      labels: { [NETWORK_LABEL]: p.network, ...(p.revision ? { [REVISION_LABEL]: p.revision } : {}) }
    },
    spec: {
      gatewayClassName: EASTWEST_GATEWAY_CLASS,
      ...(annotations ? { infrastructure: { annotations: { ...annotations } } } : {}),
      listeners: [
        {
          name: 'mesh',
          port: 15008,
          protocol: 'HBONE',
          tls: { mode: 'Terminate', options: { 'gateway.istio.io/tls-terminate-mode': 'ISTIO_MUTUAL' } }
        }
      ]
    }
  }
}

/**
 * The Gateway API release the action installs where a cluster has none: v1.5.1, the sigs.k8s.io/gateway-api that
 * Istio 1.30.3 is built with (go.mod; 1.29.6 has v1.4.1, 1.31.0-rc.0 v1.6.0). No Istio 1.29–1.31 needs a newer
 * `gateways` CRD (pkg/config/schema/gatewayapi/minimumversions.go lists none for it).
 */
export const GATEWAY_API_VERSION = 'v1.5.1'
// A literal path: ncc copies the file it names into dist/ beside the bundle.
const BUNDLE = new URL('./gateway-api/standard-install-v1.5.1.yaml', import.meta.url)

/**
 * The page pipes `kubectl kustomize github.com/kubernetes-sigs/gateway-api/config/crd?ref=…` into kubectl apply; the
 * action ships that output (the standard channel, pinned) instead, so a runner without access to GitHub installs the
 * same thing. Each object is labelled as the action's, so uninstall removes what it added and nothing else.
 */
export function gatewayApiCrds(): string {
  bundled ??= labelled()
  return bundled
}
let bundled: string | undefined
function labelled(): string {
  const docs = yaml.loadAll(readFileSync(BUNDLE, 'utf8')).filter((d): d is KubeObject => d !== null)
  return docs
    .map((d) => {
      d.metadata.labels = { ...(d.metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY }
      return yaml.dump(d, { noRefs: true, lineWidth: -1 })
    })
    .join('---\n')
}
