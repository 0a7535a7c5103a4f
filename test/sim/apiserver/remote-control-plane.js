// Which istiod serves a cluster installed with `profile: remote` (istio.io "Install Primary-Remote" and "… on different
// networks", Istio 1.29–1.31), followed the way its pods reach it. Sources (istio/istio 1.30.3):
// - manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml: the remote's injector webhook
//   istio-sidecar-injector[-rev] calls service istiod[-rev] (or istiodRemote.injectionURL);
//   remote-istiod-service.yaml / remote-istiod-endpointslices.yaml: that Service has no selector, its EndpointSlice
//   holds global.remotePilotAddress (an ExternalName Service for a host name). The page sets that address to the
//   primary's east-west gateway.
// - samples/multicluster/expose-istiod.yaml: the primary's Gateway istiod-gateway passes 15012 (xDS) and 15017
//   (webhook) through the gateway selected by istio=eastwestgateway.
// - pilot/pkg/features (EXTERNAL_ISTIOD) and pilot/pkg/bootstrap/server.go: only an istiod with EXTERNAL_ISTIOD=true
//   runs the webhook-patching and namespace controllers for remote clusters; pkg/kube/multicluster/secretcontroller.go
//   and pilot/pkg/serviceregistry/kube/controller/multicluster.go: it does so for a cluster it holds a remote secret
//   for whose istio-system is annotated topology.istio.io/controlPlaneClusters with its cluster ID (or "*"). Until it
//   has patched the caBundle, the API server cannot call the webhook (failurePolicy: Fail).
// NOT MODELLED: the TLS handshake itself, injectionURL host names resolving to anything but a gateway address, the
// remote's istio-ca-root-cert ConfigMaps, a primary reached through a plain LoadBalancer Service instead of a gateway.
import { knownClusters } from './traffic.js'

const ISTIO_NS = 'istio-system'
const EASTWEST = 'istio-eastwestgateway'
const CONTROL_PLANE_CLUSTERS = 'topology.istio.io/controlPlaneClusters'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').MeshPeer} MeshPeer */
/** @typedef {import('./index.js').Mesh} Mesh */

const labelsOf = (/** @type {any} */ o) => o?.metadata?.labels || {}

/** @param {KubeObject | undefined} svc @returns {string | undefined} */
function lbAddress(svc) {
  const ingress = svc?.status?.loadBalancer?.ingress?.[0]
  return ingress?.ip || ingress?.hostname || undefined
}

/** @param {KubeObject} d @param {string} name */
function envOf(d, name) {
  for (const c of d?.spec?.template?.spec?.containers || []) {
    const e = (c.env || []).find((/** @type {any} */ x) => x.name === name)
    if (e) return e.value
  }
  return undefined
}

/** The address the remote's injector webhook (and so its proxies) dial, read from its objects. @param {MeshPeer} peer @param {string} rev */
export function remotePilotAddress(peer, rev) {
  const webhook = peer.store.get(
    'admissionregistration.k8s.io/v1',
    'MutatingWebhookConfiguration',
    undefined,
    rev === 'default' ? 'istio-sidecar-injector' : `istio-sidecar-injector-${rev}`
  )
  const client = webhook?.webhooks?.[0]?.clientConfig
  if (!client) return { problem: `${peer.name} has no sidecar injector webhook for revision ${rev}` }
  if (client.url) {
    try {
      return { address: new URL(client.url).hostname }
    } catch {
      return { problem: `${peer.name}'s injector URL ${client.url} is not a URL` }
    }
  }
  const name = client.service?.name
  const ns = client.service?.namespace || ISTIO_NS
  const svc = peer.store.get('v1', 'Service', ns, name)
  if (!svc) return { problem: `${peer.name} has no Service ${ns}/${name} for its injector` }
  if (svc.spec?.selector && Object.keys(svc.spec.selector).length)
    return { problem: `${peer.name}'s ${name} Service selects local pods: it is not a remote` }
  if (svc.spec?.type === 'ExternalName') return { address: String(svc.spec.externalName || '') }
  const slice = peer.store
    .list('discovery.k8s.io/v1', 'EndpointSlice', ns)
    .find((s) => labelsOf(s)['kubernetes.io/service-name'] === name)
  const address = slice?.endpoints?.[0]?.addresses?.[0]
  return address ? { address } : { problem: `${peer.name}'s ${name} Service has no endpoint (remotePilotAddress)` }
}

/**
 * The primary whose istiod serves a remote cluster's pods of revision `rev`, and that istiod; or why there is none.
 * @param {Mesh} mesh @param {MeshPeer} peer @param {string} rev
 * @returns {{ home: MeshPeer, istiod: KubeObject } | { problem: string }}
 */
export function remoteControlPlane(mesh, peer, rev) {
  const target = remotePilotAddress(peer, rev)
  if (!('address' in target) || !target.address) return { problem: target.problem || 'no remote pilot address' }
  const home = mesh.clusters.find(
    (p) => p !== peer && lbAddress(p.store.get('v1', 'Service', ISTIO_NS, EASTWEST)) === target.address
  )
  if (!home) return { problem: `no cluster's ${EASTWEST} has the address ${target.address} that ${peer.name} dials` }
  const gw = home.store.get('networking.istio.io/v1', 'Gateway', ISTIO_NS, 'istiod-gateway')
  const ports = new Set((gw?.spec?.servers || []).map((/** @type {any} */ s) => Number(s?.port?.number)))
  if (!ports.has(15012) || !ports.has(15017))
    return {
      problem: `${home.name} does not expose istiod (15012, 15017) on its east-west gateway (expose-istiod.yaml)`
    }
  const istiod = home.store
    .list('apps/v1', 'Deployment', ISTIO_NS)
    .find((d) => labelsOf(d).app === 'istiod' && (labelsOf(d)['istio.io/rev'] || 'default') === rev)
  if (!istiod) return { problem: `${home.name} runs no istiod of revision ${rev}` }
  if (String(envOf(istiod, 'EXTERNAL_ISTIOD')) !== 'true')
    return { problem: `${home.name}'s istiod runs without EXTERNAL_ISTIOD=true (values.global.externalIstiod)` }
  const id = envOf(istiod, 'CLUSTER_ID') || 'Kubernetes'
  const annotated = String(
    peer.store.get('v1', 'Namespace', undefined, ISTIO_NS)?.metadata?.annotations?.[CONTROL_PLANE_CLUSTERS] || ''
  )
    .split(',')
    .map((s) => s.trim())
  if (!annotated.includes(id) && !annotated.includes('*'))
    return { problem: `${peer.name}'s istio-system is not annotated ${CONTROL_PLANE_CLUSTERS}=${id}` }
  if (!knownClusters(mesh, home, istiod).has(peer))
    return { problem: `${home.name}'s istiod has no working remote secret for ${peer.name}` }
  return { home, istiod }
}
