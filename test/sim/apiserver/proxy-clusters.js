// What a pod's Envoy answers on its admin port for GET /clusters?format=json: the endpoints istiod sent it for each
// outbound cluster, as the simulated `istioctl proxy-config endpoint` reads them (served as
// /sim/v1/proxy-clusters?namespace=&pod=, since the simulator has no Envoy to port-forward to).
//
// The endpoints follow istiod's EDS for a sidecar (pilot/pkg/xds/endpoints/ep_filters.go@1.30.3,
// EndpointsByNetworkFilter): the Service's endpoints in the client's cluster and in every cluster its istiod knows
// (traffic.js knownClusters: a working remote secret). An endpoint on the client's network, or on a network for
// which istiod knows no gateway, is its pod IP and port; an endpoint on another network with a gateway is replaced by
// that gateway's address and port 15443, one per gateway, weighted by the endpoints behind it. A network's gateways
// are the istio-eastwestgateway Services with a load-balancer address in the known clusters, by their
// topology.istio.io/network label (pilot/pkg/serviceregistry/kube/controller/network.go getGatewayDetails); a pod's
// network is its cluster's istio-system label (the pods' own label is not modelled).
// JSON as Envoy's admin prints it (envoy/admin/v3/clusters.proto, proto field names): cluster_statuses[].name,
// added_via_api, host_statuses[].address.socket_address{address,port_value}, health_status.eds_health_status, weight.
// Health is always HEALTHY (no outlier detection or health checks).
import { endpointsIn, injectingIstiod, knownClusters, networkOf, targetPortOf } from './traffic.js'

const NETWORK_LABEL = 'topology.istio.io/network'

/** @typedef {import('./index.js').MeshPeer} MeshPeer */
/** @typedef {import('./index.js').KubeObject} KubeObject */

/**
 * @param {import('./index.js').Mesh} mesh @param {MeshPeer} from @param {KubeObject} pod
 * @returns {{ cluster_statuses: any[] } | { error: string }}
 */
export function envoyClusters(mesh, from, pod) {
  const istiod = injectingIstiod(from, pod.metadata.namespace, pod)
  if (!istiod)
    return { error: `pod ${pod.metadata.name}.${pod.metadata.namespace} has no sidecar (no Envoy admin port)` }
  const clusters = [from, ...knownClusters(mesh, from, istiod)]
  const myNetwork = networkOf(from)
  /** @type {Map<string, string[]>} network → gateway addresses */
  const gateways = new Map()
  for (const c of clusters) {
    const svc = c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
    const net = svc?.metadata?.labels?.[NETWORK_LABEL]
    const ingress = (svc?.status?.loadBalancer?.ingress || []).map((/** @type {any} */ i) => i.ip || i.hostname)
    if (net !== undefined && ingress[0]) gateways.set(net, [...(gateways.get(net) || []), ingress[0]])
  }
  const statuses = []
  for (const svc of from.store.list('v1', 'Service')) {
    const { name, namespace } = svc.metadata
    for (const port of svc.spec?.ports || []) {
      /** @type {Map<string, { address: string, port: number, weight: number }>} */
      const hosts = new Map()
      for (const c of clusters) {
        const net = networkOf(c)
        const gws = net === myNetwork ? [] : gateways.get(net) || []
        for (const ep of endpointsIn(c, namespace, name, Number(port.port))) {
          const h = gws.length
            ? { address: gws[0], port: 15443 }
            : { address: ep.pod.status?.podIP, port: targetPortOf(port, ep.pod) ?? Number(port.port) }
          const key = `${h.address}:${h.port}`
          hosts.set(key, { ...h, weight: (hosts.get(key)?.weight || 0) + 1 })
        }
      }
      statuses.push({
        name: `outbound|${port.port}||${name}.${namespace}.svc.cluster.local`,
        added_via_api: true,
        host_statuses: [...hosts.values()].map((h) => ({
          address: { socket_address: { address: h.address, port_value: h.port } },
          health_status: { eds_health_status: 'HEALTHY' },
          weight: h.weight,
          locality: {}
        }))
      })
    }
  }
  return { cluster_statuses: statuses }
}
