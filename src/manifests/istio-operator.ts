import { deepMerge } from './merge.js'

export interface IstioOperator {
  apiVersion: 'install.istio.io/v1alpha1'
  kind: 'IstioOperator'
  metadata: { name: string }
  spec: Record<string, unknown>
}

/** Names of the two IstioOperators: named so that istioctl prunes each only within its own objects (istio/istio#29633). */
export const CONTROL_PLANE_IOP = 'control-plane'
export const EASTWEST_IOP = 'eastwest'
export const EASTWEST_GATEWAY = 'istio-eastwestgateway'

export interface ControlPlaneParams {
  meshId: string
  clusterName: string
  network: string
  revision?: string
  overlay?: Record<string, unknown>
}

/** The primary cluster's control plane (the guide's cluster1.yaml), with the user's overlay merged under it. */
export function controlPlane(p: ControlPlaneParams): IstioOperator {
  const owned: IstioOperator = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: CONTROL_PLANE_IOP },
    spec: {
      ...(p.revision ? { revision: p.revision } : {}),
      values: { global: { meshID: p.meshId, multiCluster: { clusterName: p.clusterName }, network: p.network } }
    }
  }
  // The overlay goes first and the owned fields last, so nothing in it can override meshID/clusterName/network.
  const merged = deepMerge({ spec: {} }, p.overlay ?? {}) as Record<string, unknown>
  return deepMerge({ ...merged, apiVersion: owned.apiVersion, kind: owned.kind, metadata: owned.metadata } as IstioOperator, { spec: owned.spec })
}

export interface EastWestParams {
  network: string
  revision?: string
  serviceAnnotations?: Record<string, string>
}

/** What samples/multicluster/gen-eastwest-gateway.sh --network <n> [--revision r] prints, rendered in-process. */
export function eastWestGateway(p: EastWestParams): IstioOperator {
  const k8s: Record<string, unknown> = {
    env: [{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: p.network }],
    service: {
      ports: [
        { name: 'status-port', port: 15021, targetPort: 15021 },
        { name: 'tls', port: 15443, targetPort: 15443 },
        { name: 'tls-istiod', port: 15012, targetPort: 15012 },
        { name: 'tls-webhook', port: 15017, targetPort: 15017 }
      ]
    }
  }
  if (p.serviceAnnotations && Object.keys(p.serviceAnnotations).length > 0) k8s.serviceAnnotations = { ...p.serviceAnnotations }
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: EASTWEST_IOP },
    spec: {
      revision: p.revision ?? '',
      profile: 'empty',
      components: {
        ingressGateways: [
          {
            name: EASTWEST_GATEWAY,
            label: { istio: 'eastwestgateway', app: EASTWEST_GATEWAY, 'topology.istio.io/network': p.network },
            enabled: true,
            k8s
          }
        ]
      },
      values: {
        gateways: { 'istio-ingressgateway': { injectionTemplate: 'gateway' } },
        global: { network: p.network }
      }
    }
  }
}
