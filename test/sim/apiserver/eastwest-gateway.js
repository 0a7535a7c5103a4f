// What a running istiod does with a Gateway API Gateway of class `istio-east-west` (the ambient east-west gateway of
// "Install ambient multi-primary on different networks"), and what the API server does when a CRD goes away.
//
// - The class exists only in an istiod with AMBIENT_ENABLE_MULTI_NETWORK=true (pilot/pkg/config/kube/gatewaycommon/
//   classinfo.go @1.30.3: GetBuiltinGatewayClasses / GetClassInfos; 1.29.6 has it in pilot/pkg/config/kube/gateway/),
//   served by the istiod of the Gateway's `istio.io/rev` label (else the default revision), once that istiod is ready.
// - Its deployment controller (gatewaycommon/deploymentcontroller.go @1.30.3) renders the "waypoint" template
//   (manifests/charts/istio-control/istio-discovery/files/waypoint.yaml) with DisableNameSuffix, so the ServiceAccount,
//   Deployment and Service are named like the Gateway; DefaultServiceType LoadBalancer (annotation
//   networking.istio.io/service-type overrides it); ports from extractServicePorts: `status-port` 15021 first, then one
//   per listener (`mesh` 15008, appProtocol `hbone`); labels: the Gateway's (its network) plus gateway-name /
//   gateway-class-name (+ gateway.istio.io/managed=istio.io-eastwest-controller on the Deployment); every object owned by
//   the Gateway (ownerReferences), so deleting it removes them; the proxy's ISTIO_META_NETWORK and
//   ISTIO_META_REQUESTED_NETWORK_VIEW from the network label, its image global.hub/proxyv2:global.tag of the injector's
//   values.
// - Its apply (deploymentcontroller.go apply/canManage/patcher @1.30.3): every object gets the label
//   gateway.istio.io/managed=istio.io-eastwest-controller and is written by server-side apply as field manager
//   istio.io/gateway-controller with force (features.ManagedGatewayController); an object of that name that exists
//   WITHOUT the label is someone else's and is skipped ("already managed"), never taken over.
// - Its status writer (pilot/pkg/config/kube/gateway/conversion.go reportGatewayStatus @1.30.3, AddressType "" for
//   this class): status.addresses are the Service's load-balancer addresses once it has them, before that its
//   ClusterIP and in-cluster hostname ("both" address types); conditions Accepted and Programmed.
// - Deleting a CRD deletes every object of its kind (apiextensions-apiserver's customresourcecleanup finalizer).
//
// NOT MODELLED: the GatewayClass objects istiod writes, HorizontalPodAutoscaler/PodDisruptionBudget of the template,
// listener status, the controller-version annotation, other Gateway classes, a Gateway outside istiod's view.

import { serverSideApply } from './managedfields.js'

const GROUP = 'gateway.networking.k8s.io'
const CLASS = 'istio-east-west'
const CONTROLLER_LABEL = 'istio.io-eastwest-controller'
const NAME_LABEL = 'gateway.networking.k8s.io/gateway-name'
const CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name'
const NETWORK_LABEL = 'topology.istio.io/network'
const MANAGED_LABEL = 'gateway.istio.io/managed'
const FIELD_MANAGER = 'istio.io/gateway-controller'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').ChangeEvent} ChangeEvent */
/** @typedef {import('./store.js').Store} Store */

const groupOf = (/** @type {string} */ apiVersion) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '')
const envOf = (/** @type {KubeObject} */ d, /** @type {string} */ name) =>
  (d.spec?.template?.spec?.containers || [])
    .flatMap((/** @type {any} */ c) => c.env || [])
    .find((/** @type {any} */ e) => e.name === name)?.value

/**
 * The istiod that serves this Gateway's class, ready, or undefined.
 * @param {Store} store @param {KubeObject} gw
 */
export function eastWestController(store, gw) {
  const rev = gw.metadata.labels?.['istio.io/rev'] || 'default'
  return store
    .list('apps/v1', 'Deployment', 'istio-system')
    .find(
      (d) =>
        d.metadata.labels?.app === 'istiod' &&
        (d.metadata.labels?.['istio.io/rev'] || 'default') === rev &&
        envOf(d, 'AMBIENT_ENABLE_MULTI_NETWORK') === 'true' &&
        (d.status?.readyReplicas || 0) > 0
    )
}

/** @param {Store} store @param {KubeObject} istiod */
function injectorGlobal(store, istiod) {
  const rev = istiod.metadata.labels?.['istio.io/rev'] || 'default'
  const cm = store.get('v1', 'ConfigMap', 'istio-system', `istio-sidecar-injector${rev === 'default' ? '' : `-${rev}`}`)
  try {
    return JSON.parse(cm?.data?.values || '{}').global || {}
  } catch {
    return {}
  }
}

/** @param {Store} store @param {KubeObject} gw @param {KubeObject} istiod @returns {KubeObject[]} */
function render(store, gw, istiod) {
  const { name, namespace } = gw.metadata
  const owner = [{ apiVersion: `${GROUP}/v1`, kind: 'Gateway', name, uid: gw.metadata.uid }]
  const infra = gw.spec?.infrastructure || {}
  const labels = { ...(gw.metadata.labels || {}), ...(infra.labels || {}), [NAME_LABEL]: name, [CLASS_LABEL]: CLASS }
  const annotations = { ...(infra.annotations || {}) }
  const network = labels[NETWORK_LABEL] || injectorGlobal(store, istiod).network || ''
  const global = injectorGlobal(store, istiod)
  const meta = (/** @type {Record<string, string>} */ extra = {}) => ({
    name,
    namespace,
    labels: { ...labels, ...extra, [MANAGED_LABEL]: CONTROLLER_LABEL },
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ownerReferences: owner
  })
  /** @type {any[]} */
  const ports = [{ name: 'status-port', port: 15021, protocol: 'TCP', appProtocol: 'tcp' }]
  for (const l of gw.spec?.listeners || [])
    if (!ports.some((p) => p.port === l.port))
      ports.push({ name: l.name, port: l.port, protocol: 'TCP', appProtocol: String(l.protocol).toLowerCase() })
  const podLabels = {
    'sidecar.istio.io/inject': 'false',
    'istio.io/dataplane-mode': 'none',
    'service.istio.io/canonical-name': name,
    'service.istio.io/canonical-revision': 'latest',
    ...labels,
    [MANAGED_LABEL]: CONTROLLER_LABEL
  }
  const env = [
    { name: 'ISTIO_META_CLUSTER_ID', value: global.multiCluster?.clusterName || 'Kubernetes' },
    ...(network
      ? [
          { name: 'ISTIO_META_NETWORK', value: network },
          { name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network }
        ]
      : [])
  ]
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta() },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(),
      spec: {
        replicas: 1,
        selector: { matchLabels: { [NAME_LABEL]: name } },
        template: {
          metadata: {
            labels: podLabels,
            annotations: { 'istio.io/rev': istiod.metadata.labels?.['istio.io/rev'] || 'default' }
          },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: 'istio-proxy',
                image: `${global.hub || 'docker.io/istio'}/${global.proxy?.image || 'proxyv2'}:${global.tag || 'latest'}`,
                ports: [{ containerPort: 15021, name: 'status-port', protocol: 'TCP' }],
                env
              }
            ]
          }
        }
      }
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        ...meta(),
        annotations: { 'networking.istio.io/traffic-distribution': 'PreferClose', ...annotations }
      },
      spec: {
        ipFamilyPolicy: 'PreferDualStack',
        ports,
        selector: { [NAME_LABEL]: name },
        type: gw.metadata.annotations?.['networking.istio.io/service-type'] || 'LoadBalancer'
      }
    }
  ]
}

/** @param {KubeObject | undefined} svc @returns {{ type: string, value: string }[]} */
function addressesOf(svc) {
  if (!svc) return []
  const external = (svc.status?.loadBalancer?.ingress || []).flatMap((/** @type {any} */ i) =>
    i.ip ? [{ type: 'IPAddress', value: i.ip }] : i.hostname ? [{ type: 'Hostname', value: i.hostname }] : []
  )
  if (external.length) return external
  return [
    ...(svc.spec?.clusterIP && svc.spec.clusterIP !== 'None' ? [{ type: 'IPAddress', value: svc.spec.clusterIP }] : []),
    { type: 'Hostname', value: `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local` }
  ]
}

const same = (/** @type {any} */ a, /** @type {any} */ b) => JSON.stringify(a) === JSON.stringify(b)
/** Whether `have` holds every field of `want` (server defaults aside). @param {any} have @param {any} want @returns {boolean} */
const covers = (have, want) =>
  want === undefined ||
  (Array.isArray(want)
    ? Array.isArray(have) && have.length === want.length && want.every((w, i) => covers(have[i], w))
    : want !== null && typeof want === 'object'
      ? have !== null && typeof have === 'object' && Object.entries(want).every(([k, w]) => covers(have[k], w))
      : have === want)

/** @param {import('./context.js').ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
export function eastWestGateways({ store, defaulter }) {
  let busy = false
  const reconcile = () => {
    for (const gw of store.list(`${GROUP}/v1`, 'Gateway')) {
      if (gw.spec?.gatewayClassName !== CLASS) continue
      const istiod = eastWestController(store, gw)
      if (!istiod) continue
      for (const want of render(store, gw, istiod)) {
        const have = store.get(want.apiVersion, want.kind, want.metadata.namespace, want.metadata.name)
        // canManage: an object without the managed label is not the controller's: left as it is.
        if (have && !have.metadata.labels?.[MANAGED_LABEL]) continue
        // Written only when the template's fields differ from what is stored, so an unchanged object keeps its
        // resourceVersion (a re-run sees nothing).
        if (have && same(have.metadata.labels, want.metadata.labels) && covers(have.spec, want.spec)) continue
        const w = { manager: FIELD_MANAGER, apiVersion: want.apiVersion, crd: false, force: true }
        // Through the API server (a server-side apply): field ownership, then defaults like any write.
        store.put(defaulter.apply(want.kind, serverSideApply(have, want, w), have))
      }
      const svc = store.get('v1', 'Service', gw.metadata.namespace, gw.metadata.name)
      const status = {
        addresses: addressesOf(svc),
        conditions: ['Accepted', 'Programmed'].map((type) => ({
          type,
          status: 'True',
          reason: type,
          message: type === 'Accepted' ? 'Resource accepted' : 'Resource programmed',
          observedGeneration: gw.metadata.generation
        }))
      }
      const now = store.get(`${GROUP}/v1`, 'Gateway', gw.metadata.namespace, gw.metadata.name)
      if (now && !same(now.status?.addresses, status.addresses))
        store.put({ ...now, status: { ...(now.status || {}), ...status } })
    }
  }
  return (e) => {
    const o = e.object
    if (o.kind === 'CustomResourceDefinition' && e.type === 'DELETED') {
      const { group, names } = o.spec || {}
      for (const x of store.all())
        if (x.kind === names?.kind && groupOf(x.apiVersion) === group)
          store.delete(x.apiVersion, x.kind, x.metadata.namespace, x.metadata.name)
      return
    }
    if (busy || !['Gateway', 'Deployment', 'Service', 'ConfigMap'].includes(o.kind)) return
    if (o.kind === 'Gateway' && groupOf(o.apiVersion) !== GROUP) return
    busy = true
    try {
      reconcile()
    } finally {
      busy = false
    }
  }
}
