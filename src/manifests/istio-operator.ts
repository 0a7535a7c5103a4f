import { EASTWEST_GATEWAY, EASTWEST_GATEWAY_LABEL, NETWORK_LABEL } from '../istio-names.js'
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

export interface ControlPlaneParams {
  meshId: string
  clusterName: string
  network: string
  /** Registry and path of every Istio image (istiod, gateways, the sidecars istiod injects). */
  hub: string
  revision?: string
  overlay?: Record<string, unknown>
  /** It serves remotes: values.global.externalIstiod, which the chart turns into istiod's EXTERNAL_ISTIOD env. */
  externalIstiod?: boolean
}

/** The primary cluster's control plane (the guide's cluster1.yaml), with the user's overlay merged under it. */
export function controlPlane(p: ControlPlaneParams): IstioOperator {
  const owned: IstioOperator = {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: CONTROL_PLANE_IOP },
    spec: {
      // istioctl turns spec.hub into values.global.hub: the charts' images and the injector's (operator/pkg/render).
      hub: p.hub,
      ...(p.revision ? { revision: p.revision } : {}),
      values: {
        global: {
          meshID: p.meshId,
          multiCluster: { clusterName: p.clusterName },
          network: p.network,
          ...(p.externalIstiod ? { externalIstiod: true } : {})
        }
      }
    }
  }
  // The overlay goes first and the owned fields last, so nothing in it can override meshID/clusterName/network.
  const merged = deepMerge({ spec: {} }, p.overlay ?? {}) as Record<string, unknown>
  return deepMerge(
    { ...merged, apiVersion: owned.apiVersion, kind: owned.kind, metadata: owned.metadata } as IstioOperator,
    { spec: owned.spec }
  )
}

export interface EastWestParams {
  network: string
  hub: string
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
  if (p.serviceAnnotations && Object.keys(p.serviceAnnotations).length > 0)
    k8s.serviceAnnotations = { ...p.serviceAnnotations }
  return {
    apiVersion: 'install.istio.io/v1alpha1',
    kind: 'IstioOperator',
    metadata: { name: EASTWEST_IOP },
    spec: {
      revision: p.revision ?? '',
      profile: 'empty',
      // Its pods are injected (injectionTemplate: gateway), so they take istiod's hub; this one keeps the IOP honest.
      hub: p.hub,
      components: {
        ingressGateways: [
          {
            name: EASTWEST_GATEWAY,
            label: { istio: EASTWEST_GATEWAY_LABEL, app: EASTWEST_GATEWAY, [NETWORK_LABEL]: p.network },
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

type Component = 'base' | 'pilot' | 'cni' | 'ztunnel' | 'ingressGateways' | 'egressGateways'

/** The components each profile enables (manifests/profiles/*.yaml @1.30.3, each merged over default.yaml). */
const PROFILE_COMPONENTS: Record<string, Component[]> = {
  default: ['base', 'pilot', 'ingressGateways'],
  demo: ['base', 'pilot', 'ingressGateways', 'egressGateways'],
  minimal: ['base', 'pilot'],
  empty: [],
  remote: ['base', 'pilot'],
  preview: ['base', 'pilot', 'ingressGateways'],
  stable: ['base', 'pilot', 'ingressGateways'],
  ambient: ['base', 'pilot', 'cni', 'ztunnel'],
  openshift: ['base', 'pilot', 'cni', 'ingressGateways'],
  'openshift-ambient': ['base', 'pilot', 'cni', 'ztunnel']
}

/** install.go's componentDependencies, inverted: a component applies once these have finished (failed ones too). */
const WAITS_FOR: Partial<Record<Component, Component>> = {
  pilot: 'base',
  cni: 'base',
  ingressGateways: 'pilot',
  egressGateways: 'pilot',
  ztunnel: 'cni'
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * How many readiness waits `istioctl install -f <iop>` can run one after another: each component waits up to
 * --readiness-timeout, independent ones side by side, dependents after their parents (Base → Pilot → gateways), and a
 * failed component still lets its dependents apply and wait (operator/pkg/install/install.go @1.30.3). So the longest
 * chain of enabled components: 3 for the default profile, 1 for a profile-empty gateway IOP, 0 for nothing.
 */
export function readinessWaits(iop: IstioOperator): number {
  const spec = iop.spec
  const profile = typeof spec.profile === 'string' && spec.profile ? spec.profile : 'default'
  const enabled = new Set<Component>(PROFILE_COMPONENTS[profile] ?? PROFILE_COMPONENTS.default)
  const components = isRecord(spec.components) ? spec.components : {}
  const gatewayValues = isRecord(spec.values) && isRecord(spec.values.gateways) ? spec.values.gateways : {}
  for (const c of Object.keys(WAITS_FOR).concat('base') as Component[]) {
    const raw = components[c]
    if (c === 'ingressGateways' || c === 'egressGateways') {
      // A list replaces the profile's; an entry is on unless it says enabled: false (or values.gateways.<name>.enabled).
      const alt = gatewayValues[c === 'ingressGateways' ? 'istio-ingressgateway' : 'istio-egressgateway']
      const forced = isRecord(alt) && alt.enabled === true
      if (Array.isArray(raw)) {
        if (forced || raw.some((g) => isRecord(g) && g.enabled !== false)) enabled.add(c)
        else enabled.delete(c)
      } else if (forced) enabled.add(c)
    } else if (isRecord(raw)) {
      // Without `enabled` the merged value decides: every profile states base and pilot; cni and ztunnel default on
      // once their map exists (GetValueOrTrue in operator/pkg/component/component.go).
      const on = typeof raw.enabled === 'boolean' ? raw.enabled : c === 'cni' || c === 'ztunnel' ? true : enabled.has(c)
      if (on) enabled.add(c)
      else enabled.delete(c)
    }
  }
  const depth = (c: Component): number => {
    const parent = WAITS_FOR[c]
    return 1 + (parent && enabled.has(parent) ? depth(parent) : 0)
  }
  return Math.max(0, ...[...enabled].map(depth))
}
