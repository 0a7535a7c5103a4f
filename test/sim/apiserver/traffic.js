// Who answers a `curl` run (through `kubectl exec`) in a pod of a simulated cluster: a model of Istio
// multi-primary, multi-network service traffic, decided from the objects stored in the clusters of one
// mesh registry (mesh.js). It exists so the action's `verify: traffic` check (Istio's "Verify the
// installation": helloworld v1 in one cluster, v2 in another, curl from each cluster until every version
// answered) can be tested end to end.
//
// WHAT IS MODELLED, exactly:
// 1. DNS in the client's cluster X, with the pod's search path (<ns>.svc.cluster.local, svc.cluster.local,
//    cluster.local): a host resolves only to a Service stored in X (`name`, `name.ns`, `name.ns.svc`,
//    `name.ns.svc.cluster.local`), else `curl: (6) Could not resolve host` (exit 6). No Istio DNS proxying.
// 2. The URL port must be a port of that Service, else `curl: (7) Failed to connect` (exit 7).
// 3. Endpoints of Service S (namespace NS) in a cluster C: Pods in C/NS matching S's selector, Running and
//    Ready, that *serve* the target port. The only server modelled is Istio's samples/helloworld app
//    (a container whose image names `helloworld`, or a pod labelled app=helloworld): it listens on 5000 and
//    answers GET /hello with `Hello version: <v>, instance: <pod name>\n` (<v> from the container's
//    SERVICE_VERSION env, else `helloworld-v<N>` in the image name, else the pod's `version` label) and
//    anything else with Flask's 404 page. Pods serving nothing on the target port are not endpoints.
// 4. Sidecars: a pod has one when its namespace in its cluster is labelled `istio-injection=enabled` and
//    a default-revision istiod exists in istio-system, or carries no `istio-injection` label and
//    `istio.io/rev=<rev>` naming an installed istiod revision (istiod = Deployment labelled app=istiod, its
//    revision from its `istio.io/rev` label, `default` if absent), and the pod does not opt out
//    (`sidecar.istio.io/inject: "false"` label or annotation). Judged at request time, from the labels as
//    they are now (real injection happens once, when the pod is created). A cluster without that istiod (a remote,
//    `profile: remote`) has one when remote-control-plane.js finds the primary serving it: the primary's istiod is
//    then the client's and the server's for 5. (what it knows, its own cluster included; its root).
// 5. Which endpoints a request from a pod in X can reach:
//    - endpoints in X: always (kube-proxy without a sidecar; with sidecars on both sides mTLS in one
//      cluster needs nothing more; PERMISSIVE mTLS covers a mixed pair).
//    - an endpoint in cluster Y ≠ X only if the client has a sidecar and ALL of:
//      a. X's istiod knows Y (and has not lost it after an update of its secret: istiod-remote-secrets.js): a Secret labelled istio/multiCluster=true in X's istio-system holds a
//         kubeconfig (under a key ≠ X's CLUSTER_ID) whose server is reachable from X and accepts its
//         credentials — the rule of the simulated `istioctl remote-clusters`: a loopback server
//         (127.0.0.1, localhost, ::1) is the pod itself; otherwise the server must be the address where Y
//         listens for other clusters (reachableUrl), the CA data must be Y's CA (or
//         insecure-skip-tls-verify), and the token must be valid on Y;
//      b. Y stores a Service of the same name in NS (its endpoints are what X's istiod reads from Y);
//      c. the endpoint pod has a sidecar (4.);
//      d. X's and Y's injecting istiods trust one root: their `sim.istio.io/root-cert-sha256` annotations
//         (written by the simulated istioctl at install) are equal and not `self-signed`;
//      e. X and Y are on the same network (label `topology.istio.io/network` on istio-system, absent = '')
//         — pod IPs are then reachable directly — or Y has an east-west gateway: Service
//         `istio-eastwestgateway` in istio-system with a load-balancer address (and port 15443 if it lists
//         ports) and a networking.istio.io `Gateway` `cross-network-gateway` in istio-system with a server
//         on port 15443 in tls mode AUTO_PASSTHROUGH (for a remote Y, that Gateway in its primary: the primary's istiod
//         configures Y's gateway; istio.io "Install Primary-Remote on different networks").
// 6. Load balancing: one endpoint per request, round-robin over the reachable endpoints (ordered by
//    cluster index, then pod name), with one counter per exec-ing cluster and Service port. Deterministic.
// 7. No reachable endpoint: a client with a sidecar gets Envoy's 503 body (exit 0): `no healthy upstream`
//    when X's istiod knows no endpoint at all, else `upstream connect error or disconnect/reset before
//    headers. reset reason: connection failure` (plus Envoy's TLS CERTIFICATE_VERIFY_FAILED reason when
//    only the root of trust differs); a client without a sidecar gets `curl: (7) … Could not connect to
//    server`, as from kube-proxy.
// 8. A client pod in ambient (istio.io/dataplane-mode=ambient): traffic-ambient.js decides instead.
//
// NOT MODELLED: real L4/L7 (no sockets, no HTTP parsing, no timeouts: `--max-time` is accepted and
// ignored), the mTLS handshake itself (only the root annotation is compared), locality or weighted load
// balancing, outlier detection and retries (unreachable endpoints are simply left out of the rotation,
// where real Envoy would route some requests to them and fail), DestinationRules/VirtualServices/
// AuthorizationPolicies/PeerAuthentication, meshNetworks, pods' own network labels, whether
// gateway pods run, whether istiod is ready, Istio DNS capture, headless Services, curl's progress meter
// (always as if -s) and writing -o files (the body is dropped). Endpoints update instantly: there is no
// xDS push delay and no propagation time for remote secrets.
import * as yaml from 'js-yaml'
import { staleRemoteClusters } from './istiod-remote-secrets.js'
import { ambientRouteTable, inAmbient } from './traffic-ambient.js'
import { remoteControlPlane } from './remote-control-plane.js'

const ISTIO_NS = 'istio-system'
const NETWORK_LABEL = 'topology.istio.io/network'
const ROOT_ANNOTATION = 'sim.istio.io/root-cert-sha256'
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const HELLOWORLD_PORT = 5000

const NOT_FOUND_PAGE =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
  '<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n'

// --- curl command line ---------------------------------------------------------------------------

// Options that take a value (the ones a test or the action could plausibly pass).
const WITH_VALUE = new Set([
  '-m',
  '--max-time',
  '--connect-timeout',
  '-H',
  '--header',
  '-o',
  '--output',
  '-w',
  '--write-out',
  '-X',
  '--request',
  '-d',
  '--data',
  '--data-raw',
  '--data-binary',
  '-A',
  '--user-agent',
  '-u',
  '--user',
  '--retry',
  '--retry-delay',
  '--retry-max-time',
  '--resolve',
  '-e',
  '--referer',
  '-x',
  '--proxy',
  '-b',
  '--cookie',
  '-c',
  '--cookie-jar',
  '-T',
  '--upload-file'
])
const SHORT_WITH_VALUE = new Set(['m', 'H', 'o', 'w', 'X', 'd', 'A', 'u', 'e', 'x', 'b', 'c', 'T'])

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').MeshPeer} MeshPeer */
/** @typedef {import('./index.js').Mesh} Mesh */
/** @typedef {{ cluster: MeshPeer, pod: KubeObject }} Endpoint */

/**
 * The parts of a curl command line the model uses.
 * @param {string[]} args
 */
export function parseCurlArgs(args) {
  /** @type {{ silent: boolean, showError: boolean, fail: boolean, output: string | undefined, writeOut: string | undefined, urls: string[] }} */
  const o = { silent: false, showError: false, fail: false, output: undefined, writeOut: undefined, urls: [] }
  /** @param {string} name @param {string} value */
  const take = (name, value) => {
    if (name === '-o' || name === '--output') o.output = value
    if (name === '-w' || name === '--write-out') o.writeOut = value
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--') {
      o.urls.push(...args.slice(i + 1))
      break
    }
    if (a.startsWith('--')) {
      const [name, inline] = a.split(/=(.*)/s)
      if (name === '--silent') o.silent = true
      else if (name === '--show-error') o.showError = true
      else if (name === '--fail' || name === '--fail-with-body') o.fail = true
      else if (WITH_VALUE.has(name)) take(name, inline ?? args[++i])
      continue
    }
    if (a.startsWith('-') && a.length > 1) {
      // Combined short flags (-sS, -sSf, -sm5): a flag taking a value ends the group.
      for (let j = 1; j < a.length; j++) {
        const f = a[j]
        if (f === 's') o.silent = true
        else if (f === 'S') o.showError = true
        else if (f === 'f') o.fail = true
        else if (SHORT_WITH_VALUE.has(f)) {
          take(`-${f}`, j + 1 < a.length ? a.slice(j + 1) : args[++i])
          break
        }
      }
      continue
    }
    o.urls.push(a)
  }
  return o
}

/** @param {string} raw */
function parseUrl(raw) {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`
  try {
    return new URL(withScheme)
  } catch {
    return undefined
  }
}

// --- cluster state -------------------------------------------------------------------------------

/** @param {KubeObject} o @returns {Record<string, string>} */
export const labelsOf = (o) => o?.metadata?.labels || {}
/** @param {Record<string, string>} selector @param {Record<string, string>} labels */
const matchesSelector = (selector, labels) => Object.entries(selector).every(([k, v]) => labels[k] === v)

/** @param {MeshPeer} peer @returns {KubeObject[]} */
export function istiods(peer) {
  return peer.store.list('apps/v1', 'Deployment', ISTIO_NS).filter((d) => labelsOf(d).app === 'istiod')
}
const revisionOf = (/** @type {KubeObject} */ istiod) => labelsOf(istiod)['istio.io/rev'] || 'default'

/**
 * The revision whose injector gives pods in `namespace` of this cluster a sidecar, or undefined.
 * @param {MeshPeer} peer @param {string} namespace @param {KubeObject} [pod]
 * @returns {string | undefined}
 */
function injectedRevision(peer, namespace, pod) {
  /** @param {KubeObject} o */
  const optOut = (o) =>
    labelsOf(o)['sidecar.istio.io/inject'] === 'false' ||
    o?.metadata?.annotations?.['sidecar.istio.io/inject'] === 'false'
  if (pod && optOut(pod)) return undefined
  const labels = labelsOf(peer.store.get('v1', 'Namespace', undefined, namespace))
  if ('istio-injection' in labels) return labels['istio-injection'] === 'enabled' ? 'default' : undefined
  return labels['istio.io/rev'] || undefined
}

/**
 * The istiod whose injector gives pods in `namespace` of this cluster a sidecar, and the cluster it runs in: its own,
 * or for a cluster without that istiod (a remote, given the mesh) the primary serving it (remote-control-plane.js).
 * @param {MeshPeer} peer @param {string} namespace @param {KubeObject} [pod] @param {Mesh} [mesh]
 * @returns {{ istiod: KubeObject, home: MeshPeer } | undefined}
 */
export function injectorOf(peer, namespace, pod, mesh) {
  const rev = injectedRevision(peer, namespace, pod)
  if (!rev) return undefined
  const local = istiods(peer).find((d) => revisionOf(d) === rev)
  if (local) return { istiod: local, home: peer }
  const remote = mesh ? remoteControlPlane(mesh, peer, rev) : undefined
  return remote && 'home' in remote ? remote : undefined
}

/**
 * The istiod whose injector gives pods in `namespace` of this cluster a sidecar, or undefined.
 * @param {MeshPeer} peer @param {string} namespace @param {KubeObject} [pod] @param {Mesh} [mesh]
 * @returns {KubeObject}
 */
export function injectingIstiod(peer, namespace, pod, mesh) {
  return /** @type {KubeObject} */ (injectorOf(peer, namespace, pod, mesh)?.istiod)
}

/** @param {KubeObject} istiod @returns {string} */
function clusterIdOf(istiod) {
  for (const c of istiod?.spec?.template?.spec?.containers || []) {
    const e = (c.env || []).find((/** @type {any} */ x) => x.name === 'CLUSTER_ID')
    if (e && typeof e.value === 'string') return e.value
  }
  return 'Kubernetes'
}

export const networkOf = (/** @type {MeshPeer} */ peer) =>
  labelsOf(peer.store.get('v1', 'Namespace', undefined, ISTIO_NS))[NETWORK_LABEL] || ''
export const rootOf = (/** @type {KubeObject} */ istiod) => istiod?.metadata?.annotations?.[ROOT_ANNOTATION]

/**
 * Decoded data of a Secret (stringData included, as a stored object may carry it).
 * @param {KubeObject} s
 * @returns {Record<string, string>}
 */
function secretData(s) {
  const data = Object.fromEntries(
    Object.entries(s.data || {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])
  )
  return { ...data, ...(s.stringData || {}) }
}

/**
 * The cluster a remote-secret kubeconfig lets a pod in `from` reach and authenticate to, or undefined.
 * Same rule as the simulated `istioctl remote-clusters` (a real HTTPS request there, a lookup here).
 * @param {Mesh} mesh @param {string} kubeconfigText
 * @returns {MeshPeer | undefined}
 */
export function clusterReachedBy(mesh, kubeconfigText) {
  /** @type {any} parsed YAML: any shape */
  let cfg
  try {
    cfg = yaml.load(kubeconfigText)
  } catch {
    return undefined
  }
  const ctx = (cfg?.contexts || []).find((/** @type {any} */ c) => c?.name === cfg['current-context'])?.context || {}
  const cluster = (cfg?.clusters || []).find((/** @type {any} */ c) => c?.name === ctx.cluster)?.cluster
  const user = (cfg?.users || []).find((/** @type {any} */ u) => u?.name === ctx.user)?.user || {}
  if (!cluster?.server) return undefined
  let url
  try {
    url = new URL(cluster.server)
  } catch {
    return undefined
  }
  // Seen from a pod, a loopback address is the pod itself: nothing answers there.
  if (url.protocol !== 'https:' || LOOPBACK.has(url.hostname)) return undefined
  const peer = mesh.byAddress(url.hostname, Number(url.port || 443))
  if (!peer) return undefined
  const serverName = cluster['tls-server-name']
  const certNames = ['127.0.0.1', 'localhost', peer.reachableHost]
  if (cluster['insecure-skip-tls-verify'] !== true) {
    const ca = cluster['certificate-authority-data']
      ? Buffer.from(String(cluster['certificate-authority-data']), 'base64').toString('utf8')
      : ''
    if (ca.trim() !== peer.caPem.trim()) return undefined
    if (serverName && !certNames.includes(serverName)) return undefined
  }
  if (!user.token || !peer.tokenIsValid(user.token)) return undefined
  return peer
}

/**
 * The clusters X's istiod reads endpoints from through its remote secrets (X itself excluded).
 * @param {Mesh} mesh @param {MeshPeer} from @param {KubeObject} localIstiod
 */
export function knownClusters(mesh, from, localIstiod) {
  const localId = clusterIdOf(localIstiod)
  /** @type {Set<MeshPeer>} */
  const known = new Set()
  const stale = localIstiod ? staleRemoteClusters(from.store, localIstiod) : new Set()
  // Only istiod's own namespace: pkg/kube/multicluster/secretcontroller.go (1.30.3) filters on SystemNamespace.
  const secrets = from.store.list('v1', 'Secret', ISTIO_NS).filter((s) => labelsOf(s)['istio/multiCluster'] === 'true')
  for (const s of secrets) {
    for (const [id, text] of Object.entries(secretData(s))) {
      if (id === localId) continue // istiod ignores a remote secret for its own cluster ID
      if (stale.has(id)) continue // lost after an update of its secret, until istiod restarts (istiod-remote-secrets.js)
      const peer = clusterReachedBy(mesh, text)
      // A firewall or a TLS-intercepting proxy between the clusters keeps istiod from that API server (network.js).
      const cut = peer && mesh.network?.istiodView(from.name).unreachable.includes(`${peer.reachableHost}:${peer.port}`)
      if (peer && peer !== from && !cut) known.add(peer)
    }
  }
  return known
}

/**
 * Y's east-west gateway as a client on another network needs it, or the reason it cannot be used. A remote's gateway
 * takes its Gateway config from its primary (`config`): the page applies expose-services.yaml there only.
 * @param {MeshPeer} peer @param {MeshPeer} [config]
 */
export function eastWestGatewayProblem(peer, config = peer) {
  const svc = peer.store.get('v1', 'Service', ISTIO_NS, 'istio-eastwestgateway')
  if (!svc) return 'no istio-eastwestgateway Service'
  /** @type {any[]} */
  const ingress = svc.status?.loadBalancer?.ingress || []
  if (!ingress.some((i) => i.ip || i.hostname)) return 'istio-eastwestgateway has no load-balancer address'
  // istiod takes a gateway's network from the Service's label (pilot/pkg/serviceregistry/kube/controller/network.go
  // @1.30.3 getGatewayDetails), the pods' from istio-system's: if they differ, no gateway serves the pods' network and
  // istiod sends remote pod IPs (pilot/pkg/xds/endpoints/ep_filters.go EndpointsByNetworkFilter, sidecar mode).
  const gwNetwork = svc.metadata?.labels?.[NETWORK_LABEL]
  if (gwNetwork !== undefined && gwNetwork !== networkOf(peer))
    return `istio-eastwestgateway is labelled ${NETWORK_LABEL}=${gwNetwork}, its pods' network is ${JSON.stringify(networkOf(peer))}: istiod routes to their pod IPs`
  const ports = svc.spec?.ports
  if (Array.isArray(ports) && ports.length && !ports.some((/** @type {any} */ p) => Number(p.port) === 15443))
    return 'istio-eastwestgateway has no port 15443'
  const gw = config.store.get('networking.istio.io/v1', 'Gateway', ISTIO_NS, 'cross-network-gateway')
  if (!gw) return `no cross-network-gateway Gateway${config === peer ? '' : ` in ${config.name}, its control plane`}`
  const passthrough = (gw.spec?.servers || []).some(
    (/** @type {any} */ s) =>
      Number(s?.port?.number) === 15443 && String(s?.tls?.mode || '').toUpperCase() === 'AUTO_PASSTHROUGH'
  )
  return passthrough ? undefined : 'cross-network-gateway has no AUTO_PASSTHROUGH server on 15443'
}

// --- endpoints -----------------------------------------------------------------------------------

/** @param {KubeObject} p @returns {boolean} */
const isReady = (p) =>
  p.status?.phase === 'Running' &&
  (p.status?.conditions || []).some((/** @type {any} */ c) => c.type === 'Ready' && c.status === 'True')

/** @param {KubeObject} pod @returns {boolean} */
function isHelloworld(pod) {
  return (
    labelsOf(pod).app === 'helloworld' ||
    (pod.spec?.containers || []).some((/** @type {any} */ c) => /helloworld/.test(String(c.image || '')))
  )
}

/**
 * The container port a Service port's targetPort means for this pod (a number or a container port name).
 * @param {any} svcPort @param {KubeObject} pod
 */
export function targetPortOf(svcPort, pod) {
  const t = svcPort.targetPort ?? svcPort.port
  if (typeof t === 'number' || /^\d+$/.test(String(t))) return Number(t)
  for (const c of pod.spec?.containers || []) {
    const p = (c.ports || []).find((/** @type {any} */ x) => x.name === t)
    if (p) return Number(p.containerPort)
  }
  return undefined
}

/** @param {KubeObject} pod @returns {string} */
function helloworldVersion(pod) {
  for (const c of pod.spec?.containers || []) {
    const e = (c.env || []).find((/** @type {any} */ x) => x.name === 'SERVICE_VERSION' && typeof x.value === 'string')
    if (e) return e.value
  }
  for (const c of pod.spec?.containers || []) {
    const m = /helloworld-(v\d+)/.exec(String(c.image || ''))
    if (m) return m[1]
  }
  return labelsOf(pod).version || 'None' // Python prints None for a missing environment variable
}

/**
 * Pods in `peer` behind Service `svcName` in `namespace` that serve `port` (a port of that Service there).
 * @param {MeshPeer} peer @param {string} namespace @param {string} svcName @param {number} port
 * @returns {Endpoint[]}
 */
export function endpointsIn(peer, namespace, svcName, port) {
  const svc = peer.store.get('v1', 'Service', namespace, svcName)
  const svcPort = (svc?.spec?.ports || []).find((/** @type {any} */ p) => Number(p.port) === port)
  const selector = svc?.spec?.selector
  if (!svcPort || !selector || !Object.keys(selector).length) return []
  return peer.store
    .list('v1', 'Pod', namespace)
    .filter((p) => matchesSelector(selector, labelsOf(p)) && isReady(p))
    .filter((p) => isHelloworld(p) && targetPortOf(svcPort, p) === HELLOWORLD_PORT)
    .map((pod) => ({ cluster: peer, pod }))
}

/**
 * Every endpoint of the Service, each with whether a pod in `from` can reach it (and why not).
 * `failures` holds the reason of each endpoint the client's proxy knows but cannot reach; `why` also
 * names the clusters it does not know.
 * @param {Mesh} mesh @param {MeshPeer} from @param {KubeObject} clientPod @param {string} namespace @param {string} svcName @param {number} port
 * @returns {{ sidecar: boolean, ambient?: boolean, reachable: Endpoint[], known: Endpoint[], failures: string[], why: Record<string, string> }}
 */
export function routeTable(mesh, from, clientPod, namespace, svcName, port) {
  // A pod in ambient has no sidecar: its node's ztunnel carries its traffic (traffic-ambient.js).
  if (inAmbient(from, clientPod.metadata.namespace, clientPod))
    return ambientRouteTable(mesh, from, namespace, svcName, port)
  const client = injectorOf(from, clientPod.metadata.namespace, clientPod, mesh)
  const clientIstiod = client?.istiod
  const local = endpointsIn(from, namespace, svcName, port)
  const reachable = [...local]
  const known = [...local] // endpoints the client's proxy (or kube-proxy) would route to
  /** @type {Record<string, string>} */
  const why = {}
  /** @type {string[]} */
  const failures = []
  if (client) {
    // A remote's proxies get their endpoints from the primary's istiod: what it knows, its own cluster included.
    const { home } = client
    const knows = knownClusters(mesh, home, client.istiod)
    if (home !== from) knows.add(home)
    const sameNetwork = (/** @type {MeshPeer} */ peer) => networkOf(peer) === networkOf(from)
    for (const peer of mesh.clusters) {
      if (peer === from) continue
      if (!knows.has(peer)) {
        why[peer.name] = staleRemoteClusters(home.store, client.istiod).has(peer.name)
          ? `${home.name}'s istiod lost ${peer.name}'s endpoints when its remote secret changed, until istiod restarts`
          : `${home.name}'s istiod has no working remote secret for ${peer.name}`
        continue
      }
      const eps = endpointsIn(peer, namespace, svcName, port)
      if (!eps.length) continue
      known.push(...eps)
      for (const ep of eps) {
        const server = injectorOf(peer, namespace, ep.pod, mesh)
        const serverIstiod = server?.istiod
        const gatewayProblem = sameNetwork(peer)
          ? undefined
          : (eastWestGatewayProblem(peer, server?.home ?? peer) ?? mesh.network?.gatewayProblem(from.name, peer.name))
        /** @type {string | undefined} */
        let problem
        if (!serverIstiod) problem = `${ep.pod.metadata.name} in ${peer.name} has no sidecar`
        else if (
          !rootOf(clientIstiod) ||
          rootOf(clientIstiod) === 'self-signed' ||
          rootOf(clientIstiod) !== rootOf(serverIstiod)
        ) {
          problem = 'root-of-trust'
        } else if (gatewayProblem) problem = `${peer.name}: ${gatewayProblem}`
        if (problem) {
          why[`${peer.name}/${ep.pod.metadata.name}`] = problem
          failures.push(problem)
        } else reachable.push(ep)
      }
    }
  }
  /** @param {Endpoint} a @param {Endpoint} b */
  const order = (a, b) =>
    a.cluster.index - b.cluster.index ||
    (a.pod.metadata.name < b.pod.metadata.name ? -1 : a.pod.metadata.name > b.pod.metadata.name ? 1 : 0)
  return { sidecar: Boolean(clientIstiod), reachable: reachable.sort(order), known, failures, why }
}

// --- one curl ------------------------------------------------------------------------------------

/**
 * Resolves a host the way the pod's resolv.conf would, to a Service stored in this cluster.
 * @param {MeshPeer} peer @param {string} podNamespace @param {string} host
 * @returns {KubeObject}
 */
export function resolveService(peer, podNamespace, host) {
  const h = host.toLowerCase()
  const names = h.endsWith('.')
    ? [h.slice(0, -1)]
    : [h, `${h}.${podNamespace}.svc.cluster.local`, `${h}.svc.cluster.local`, `${h}.cluster.local`]
  for (const n of names) {
    const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\.cluster\.local$/.exec(n)
    if (!m) continue
    const svc = peer.store.get('v1', 'Service', m[3], m[1])
    if (svc) return svc
  }
  return undefined
}

/**
 * Runs `curl args…` in `pod` of cluster `from`.
 * @param {Mesh} mesh @param {MeshPeer} from @param {KubeObject} pod @param {string[]} args
 * @returns {{ stdout: string, stderr: string, exitCode: number }}
 */
export function runCurl(mesh, from, pod, args) {
  const o = parseCurlArgs(args)
  let stdout = ''
  let stderr = ''
  /** @param {number} code @param {string} message */
  const fail = (code, message) => {
    if (!o.silent || o.showError) stderr += `curl: (${code}) ${message}\n`
    return { stdout, stderr, exitCode: code }
  }
  if (!o.urls.length) {
    stderr += "curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' for more information\n"
    return { stdout, stderr, exitCode: 2 }
  }
  // Several URLs: fetched one after another; the exit code is the last transfer's.
  let exitCode = 0
  for (const raw of o.urls) {
    const r = fetchOne(mesh, from, pod, raw)
    if (r.error) {
      const res = fail(r.error.code, r.error.message)
      exitCode = res.exitCode
      continue
    }
    if (o.fail && r.status >= 400) {
      const res = fail(22, `The requested URL returned error: ${r.status}`)
      exitCode = res.exitCode
      continue
    }
    if (o.output === undefined) stdout += r.body
    if (o.writeOut !== undefined) {
      stdout += o.writeOut.replace(/%\{(http_code|response_code)\}/g, String(r.status)).replace(/\\n/g, '\n')
    }
    exitCode = 0
  }
  return { stdout, stderr, exitCode }
}

/**
 * @param {Mesh} mesh @param {MeshPeer} from @param {KubeObject} pod @param {string} raw
 * @returns {{ error: { code: number, message: string } } | { error?: undefined, status: number, body: string }}
 */
function fetchOne(mesh, from, pod, raw) {
  const url = parseUrl(raw)
  if (!url) return { error: { code: 3, message: 'URL rejected: Malformed input to a URL function' } }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: { code: 1, message: `Protocol "${url.protocol.slice(0, -1)}" not supported` } }
  }
  const host = url.hostname
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  const svc = resolveService(from, pod.metadata.namespace, host)
  if (!svc) return { error: { code: 6, message: `Could not resolve host: ${host}` } }
  const connectFailed = {
    error: { code: 7, message: `Failed to connect to ${host} port ${port} after 0 ms: Could not connect to server` }
  }
  if (!(svc.spec?.ports || []).some((/** @type {any} */ p) => Number(p.port) === port)) return connectFailed

  const table = routeTable(mesh, from, pod, svc.metadata.namespace, svc.metadata.name, port)
  if (!table.reachable.length) {
    // ztunnel accepts the connection, finds no way to an endpoint and resets it.
    if (table.ambient) return { error: { code: 56, message: 'Recv failure: Connection reset by peer' } }
    if (!table.sidecar) return connectFailed
    if (!table.known.length) return { status: 503, body: 'no healthy upstream' }
    const onlyRoot = table.failures.every((w) => w === 'root-of-trust')
    const tls = onlyRoot
      ? ', transport failure reason: TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end'
      : ''
    return {
      status: 503,
      body: `upstream connect error or disconnect/reset before headers. reset reason: connection failure${tls}`
    }
  }
  // helloworld speaks plain HTTP: TLS from the client fails at the handshake.
  if (url.protocol === 'https:') {
    return { error: { code: 35, message: 'OpenSSL/3.3.2: error:0A00010B:SSL routines::wrong version number' } }
  }
  const key = `${svc.metadata.namespace}/${svc.metadata.name}:${port}`
  const n = from.roundRobin.get(key) || 0
  from.roundRobin.set(key, n + 1)
  const ep = table.reachable[n % table.reachable.length]
  if (url.pathname === '/hello') {
    return { status: 200, body: `Hello version: ${helloworldVersion(ep.pod)}, instance: ${ep.pod.metadata.name}\n` }
  }
  return { status: 404, body: NOT_FOUND_PAGE }
}
