import * as yaml from 'js-yaml'
import { CROSS_NETWORK_GATEWAY, EASTWEST_GATEWAY_LABEL, ISTIO_NAMESPACE, NETWORK_LABEL } from '../istio-names.js'
import { Semver, compareSemver } from '../istioctl/version.js'

export type KubeObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
} & Record<string, unknown>

/** istio-system carrying the cluster's network: the guide's `kubectl label namespace … --overwrite`, as an apply. */
export function istioNamespace(network: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: ISTIO_NAMESPACE, labels: { [NETWORK_LABEL]: network } }
  }
}

/** samples/multicluster/expose-services.yaml: every *.local service reachable through the east-west gateway. */
export function crossNetworkGateway(istioVersion: Semver): KubeObject {
  return eastWestGatewayObject(istioVersion, CROSS_NETWORK_GATEWAY, [
    { port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }
  ])
}

// networking.istio.io/v1 is served from Istio 1.24 on; older releases take v1alpha3 (still served later, but deprecated).
export const networkingApi = (v: Semver): string =>
  compareSemver(v, { major: 1, minor: 24, patch: 0 }) >= 0 ? 'networking.istio.io/v1' : 'networking.istio.io/v1alpha3'

/** An Istio Gateway in istio-system whose `servers` the east-west gateway's pods (istio: eastwestgateway) serve. */
export function eastWestGatewayObject(istioVersion: Semver, name: string, servers: unknown[]): KubeObject {
  return {
    apiVersion: networkingApi(istioVersion),
    kind: 'Gateway',
    metadata: { name, namespace: ISTIO_NAMESPACE },
    spec: { selector: { istio: EASTWEST_GATEWAY_LABEL }, servers }
  }
}

/**
 * A Secret with `stringData` turned into `data`: the API server stores only `data`, so `kubectl apply` of stringData
 * reports "configured" on every run even when nothing changed. Applying `data` lets a re-run say "unchanged".
 */
export function withEncodedData<T extends Record<string, unknown>>(obj: T): T {
  if (obj.kind !== 'Secret' || typeof obj.stringData !== 'object' || obj.stringData === null) return obj
  const { stringData, ...rest } = obj as Record<string, unknown>
  const data: Record<string, string> = { ...((rest.data as Record<string, string>) ?? {}) }
  for (const [k, v] of Object.entries(stringData as Record<string, string>))
    data[k] = Buffer.from(String(v), 'utf8').toString('base64')
  return { ...rest, data } as unknown as T
}

/** Serializes objects once, as one multi-document YAML stream for `kubectl apply -f -` / `istioctl install -f -`. */
export function toYaml(...objects: object[]): string {
  return objects.map((o) => yaml.dump(o, { noRefs: true, lineWidth: -1 })).join('---\n')
}
