// The ambient part of the traffic model (traffic.js): who answers a curl from a pod enrolled in ambient, following
// "Install ambient multi-primary on different networks" and "Verify the ambient installation" (Istio 1.29–1.31).
//
// WHAT IS MODELLED, exactly:
// 1. A pod is in ambient when its namespace in its cluster is labelled istio.io/dataplane-mode=ambient, the pod is not
//    labelled istio.io/dataplane-mode=none, and the cluster runs the ambient profile: DaemonSet `ztunnel` in
//    istio-system and an istiod with PILOT_ENABLE_AMBIENT=true (files/profile-ambient.yaml @1.30.3). Judged per request.
// 2. From an ambient pod in X, endpoints in X always; an endpoint in Y ≠ X only if ALL of:
//    a. X's istiod knows Y through a remote secret (traffic.js knownClusters, the same rule as for sidecars);
//    b. with AMBIENT_ENABLE_MULTI_NETWORK=true on X's istiod, Y's Service is labelled istio.io/global=true: the
//       ambient profile's meshConfig.serviceScopeConfigs make only those GLOBAL, and a remote cluster's non-global
//       services are dropped (pilot/pkg/serviceregistry/ambient/services.go @1.30.3, checkServiceScope);
//    c. the endpoint pod is in ambient in Y (1.);
//    d. X's and Y's istiods trust one root (their sim.istio.io/root-cert-sha256, as for sidecars);
//    e. X and Y are on one network (ztunnel to ztunnel), or X's istiod has AMBIENT_ENABLE_MULTI_NETWORK=true and Y has
//       an east-west Gateway istiod can use: gateway.networking.k8s.io Gateway of class istio-east-west labelled
//       topology.istio.io/network=<Y's network>, with a listener of protocol HBONE and tls.mode Terminate, and a
//       status address that is its Service's load-balancer address (pilot/pkg/serviceregistry/ambient/networks.go
//       remoteK8sGatewayToNetworkGateways @1.30.3 reads the class, the label, the listener and status.addresses; an
//       in-cluster ClusterIP or hostname, reported before the load balancer answers, is not reachable from X).
// 3. No reachable endpoint: ztunnel resets the connection: `curl: (56) Recv failure: Connection reset by peer`.
//
// NOT MODELLED: waypoints, sidecar↔ambient pairs across clusters (a sidecar client sees only what traffic.js says),
// locality, the double-HBONE handshake itself, ztunnel/istio-cni pods (the DaemonSets are not scheduled).
import { endpointsIn, istiods, knownClusters, labelsOf, networkOf, rootOf } from './traffic.js'

const ISTIO_NS = 'istio-system'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').MeshPeer} MeshPeer */
/** @typedef {import('./index.js').Mesh} Mesh */

const envOf = (/** @type {KubeObject} */ d, /** @type {string} */ name) =>
  (d?.spec?.template?.spec?.containers || [])
    .flatMap((/** @type {any} */ c) => c.env || [])
    .find((/** @type {any} */ e) => e.name === name)?.value

/** The istiod of a cluster that runs the ambient profile, or undefined. @param {MeshPeer} peer */
export function ambientIstiod(peer) {
  if (!peer.store.get('apps/v1', 'DaemonSet', ISTIO_NS, 'ztunnel')) return undefined
  return istiods(peer).find((d) => envOf(d, 'PILOT_ENABLE_AMBIENT') === 'true')
}

/** Whether `pod` (in `namespace` of `peer`) is enrolled in ambient. @param {MeshPeer} peer @param {string} namespace @param {KubeObject} [pod] */
export function inAmbient(peer, namespace, pod) {
  if (pod && labelsOf(pod)['istio.io/dataplane-mode'] === 'none') return false
  const ns = peer.store.get('v1', 'Namespace', undefined, namespace)
  return labelsOf(ns)['istio.io/dataplane-mode'] === 'ambient' && Boolean(ambientIstiod(peer))
}

/** Why Y's east-west Gateway cannot carry X's traffic, or undefined. @param {MeshPeer} peer */
export function ambientGatewayProblem(peer) {
  const net = networkOf(peer)
  const gateways = peer.store
    .list('gateway.networking.k8s.io/v1', 'Gateway')
    .filter((g) => g.spec?.gatewayClassName === 'istio-east-west' && labelsOf(g)['topology.istio.io/network'] === net)
  if (!gateways.length) return `no Gateway of class istio-east-west labelled ${net}`
  for (const g of gateways) {
    const hbone = (g.spec?.listeners || []).some(
      (/** @type {any} */ l) => l.protocol === 'HBONE' && l.tls?.mode === 'Terminate'
    )
    const svc = peer.store.get('v1', 'Service', g.metadata.namespace, g.metadata.name)
    const external = new Set(
      (svc?.status?.loadBalancer?.ingress || []).flatMap((/** @type {any} */ i) => [i.ip, i.hostname].filter(Boolean))
    )
    const usable = (g.status?.addresses || []).some((/** @type {any} */ a) => external.has(a.value))
    if (hbone && usable) return undefined
  }
  return 'its istio-east-west Gateway has no HBONE listener or no load-balancer address in its status'
}

/**
 * routeTable (traffic.js) for a client pod in ambient.
 * @param {Mesh} mesh @param {MeshPeer} from @param {string} namespace @param {string} svcName @param {number} port
 */
export function ambientRouteTable(mesh, from, namespace, svcName, port) {
  const clientIstiod = ambientIstiod(from)
  const multiNetwork = envOf(clientIstiod, 'AMBIENT_ENABLE_MULTI_NETWORK') === 'true'
  const local = endpointsIn(from, namespace, svcName, port)
  const reachable = [...local]
  const known = [...local]
  /** @type {Record<string, string>} */
  const why = {}
  /** @type {string[]} */
  const failures = []
  const knows = knownClusters(mesh, from, clientIstiod)
  for (const peer of mesh.clusters) {
    if (peer === from) continue
    if (!knows.has(peer)) {
      why[peer.name] = `${from.name}'s istiod has no working remote secret for ${peer.name}`
      continue
    }
    const svc = peer.store.get('v1', 'Service', namespace, svcName)
    if (multiNetwork && labelsOf(svc)['istio.io/global'] !== 'true') {
      why[peer.name] = `${namespace}/${svcName} in ${peer.name} is not labelled istio.io/global=true`
      continue
    }
    const eps = endpointsIn(peer, namespace, svcName, port)
    known.push(...eps)
    const sameNetwork = networkOf(peer) === networkOf(from)
    const gatewayProblem = sameNetwork
      ? undefined
      : multiNetwork
        ? ambientGatewayProblem(peer)
        : `${from.name}'s istiod runs without AMBIENT_ENABLE_MULTI_NETWORK`
    for (const ep of eps) {
      const serverIstiod = ambientIstiod(peer)
      /** @type {string | undefined} */
      let problem
      if (!inAmbient(peer, namespace, ep.pod)) problem = `${ep.pod.metadata.name} in ${peer.name} is not in ambient`
      else if (
        !rootOf(clientIstiod) ||
        rootOf(clientIstiod) === 'self-signed' ||
        rootOf(clientIstiod) !== rootOf(serverIstiod)
      )
        problem = 'root-of-trust'
      else if (gatewayProblem) problem = `${peer.name}: ${gatewayProblem}`
      if (problem) {
        why[`${peer.name}/${ep.pod.metadata.name}`] = problem
        failures.push(problem)
      } else reachable.push(ep)
    }
  }
  /** @param {import('./traffic.js').Endpoint} a @param {import('./traffic.js').Endpoint} b */
  const order = (a, b) =>
    a.cluster.index - b.cluster.index ||
    (a.pod.metadata.name < b.pod.metadata.name ? -1 : a.pod.metadata.name > b.pod.metadata.name ? 1 : 0)
  return { sidecar: false, ambient: true, reachable: reachable.sort(order), known, failures, why }
}
