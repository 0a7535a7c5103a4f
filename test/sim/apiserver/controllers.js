// The controllers a real cluster runs that the action observes: load balancer (service controller),
// service-account token, deployment (status + pods), namespace (defaults, cascading delete) and the
// garbage collector (ownerReferences). They react to the store's change events.
import { createHash, randomBytes } from 'node:crypto'
import { serviceType } from './defaults.js'
import { randomSuffix } from './rest.js'
import { nowTimestamp } from './store.js'
import { istiodCa } from './istiod.js'
import { remoteSecretUpdates } from './istiod-remote-secrets.js'
import { eastWestGateways } from './eastwest-gateway.js'
import { jobs } from './jobs.js'
import { remoteControlPlane } from './remote-control-plane.js'

const SA_TOKEN = 'kubernetes.io/service-account-token'
const SA_NAME = 'kubernetes.io/service-account.name'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {import('./index.js').ChangeEvent} ChangeEvent */
/** @typedef {import('./context.js').ControllerContext} ControllerContext */
/** @typedef {import('./store.js').Store} Store */

/**
 * @param {import('./context.js').ServerContext} ctx
 * @returns {{ stop(): void }}
 */
export function startControllers(ctx) {
  const { store } = ctx
  /** @type {Set<NodeJS.Timeout>} */
  const timers = new Set()
  /** @param {() => void} fn @param {number} ms */
  const schedule = (fn, ms) => {
    const t = setTimeout(() => {
      timers.delete(t)
      fn()
    }, ms)
    timers.add(t)
    return t
  }
  /** @param {NodeJS.Timeout | undefined} t */
  const cancel = (t) => {
    clearTimeout(t)
    if (t) timers.delete(t)
  }
  /** @type {ControllerContext} */
  const c = { ...ctx, schedule, cancel }
  // istiodCa: what each istiod pod loads from cacerts (istiod.js); remoteSecretUpdates: what it loses when a remote
  // secret changes (istiod-remote-secrets.js); eastWestGateways: istiod's Gateway API deployment controller for the
  // ambient east-west gateway, and CRD deletion (eastwest-gateway.js).
  const handlers = [
    loadBalancer(c),
    tokens(c),
    deployments(c),
    namespaces(c),
    garbageCollector(c),
    istiodCa(c),
    remoteSecretUpdates(c),
    eastWestGateways(c),
    jobs(c)
  ]
  /** @param {ChangeEvent} e */
  const onChange = (e) => {
    for (const h of handlers) h(e)
  }
  store.on('change', onChange)
  return {
    stop() {
      store.off('change', onChange)
      for (const t of timers) clearTimeout(t)
      timers.clear()
    }
  }
}

/** @param {KubeObject} o @param {string} apiVersion @param {string} kind @returns {boolean} */
const isKind = (o, apiVersion, kind) =>
  o.kind === kind && o.apiVersion.split('/').slice(0, -1).join('/') === apiVersion.split('/').slice(0, -1).join('/')
const keyOf = (/** @type {KubeObject} */ o) => `${o.metadata.namespace || ''}/${o.metadata.name}`

let eventSeq = 0n
/**
 * Record a core/v1 Event about obj, as `kubectl describe` / `kubectl get events` show them.
 * @param {Store} store @param {KubeObject} obj
 * @param {{ type?: string, reason: string, message: string, component: string }} event
 */
export function recordEvent(store, obj, { type = 'Normal', reason, message, component }) {
  const ts = nowTimestamp()
  // Named <object>.<hex nanoseconds> like the real recorder, so names sort by time.
  const nanos = BigInt(Date.now()) * 1000000n + (eventSeq++ % 1000000n)
  store.put({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${obj.metadata.name}.${nanos.toString(16)}`, namespace: obj.metadata.namespace || 'default' },
    involvedObject: {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion
    },
    reason,
    message,
    type,
    source: { component },
    reportingComponent: component,
    reportingInstance: '',
    firstTimestamp: ts,
    lastTimestamp: ts,
    count: 1
  })
}

// --- load balancer -----------------------------------------------------------------------------
// LoadBalancer Services (or Services with no type) get an address after lb.delayMs: an IP from the
// documentation range or an AWS-style hostname; mode 'none' never assigns one (kind without MetalLB).
// Every load balancer is a new one, as a cloud's are: the cluster's first gets 192.0.2.<index>, each later one
// (another Service, or the same name created again) 198.51.100.<n>, so a test can tell a re-created Service.
/** @param {ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
function loadBalancer({ store, index, lb, schedule, cancel }) {
  /** @type {Map<string, NodeJS.Timeout>} */
  const pending = new Map() // service key → timer
  /** @type {Set<string>} */
  const told = new Set() // uids already given the "no controller" event
  const hasAddress = (/** @type {KubeObject} */ s) => (s.status?.loadBalancer?.ingress || []).length > 0
  let allocated = 0

  /** @param {string} ns @param {string} name */
  const assign = (ns, name) => {
    pending.delete(`${ns}/${name}`)
    const svc = store.get('v1', 'Service', ns, name)
    if (!svc || serviceType(svc) !== 'LoadBalancer' || hasAddress(svc)) return
    const ingress =
      lb.mode === 'hostname'
        ? { hostname: `a${randomBytes(16).toString('hex')}-${index}.elb.us-east-1.amazonaws.com` }
        : { ip: allocated ? `198.51.100.${allocated}` : `192.0.2.${index}` }
    allocated++
    const updated = store.put({ ...svc, status: { ...svc.status, loadBalancer: { ingress: [ingress] } } })
    recordEvent(store, updated, {
      reason: 'EnsuredLoadBalancer',
      message: 'Ensured load balancer',
      component: 'service-controller'
    })
  }

  return (e) => {
    const svc = e.object
    if (!isKind(svc, 'v1', 'Service')) return
    const key = keyOf(svc)
    if (e.type === 'DELETED') {
      if (pending.has(key)) cancel(pending.get(key))
      pending.delete(key)
      return
    }
    if (serviceType(svc) !== 'LoadBalancer') {
      // No longer a LoadBalancer: the address goes away, as the service controller releases it.
      if (hasAddress(svc)) store.put({ ...svc, status: { ...svc.status, loadBalancer: {} } })
      return
    }
    if (hasAddress(svc) || pending.has(key)) return
    if (lb.mode === 'none') {
      if (told.has(svc.metadata.uid)) return
      told.add(svc.metadata.uid)
      recordEvent(store, svc, {
        reason: 'EnsuringLoadBalancer',
        message:
          'Ensuring load balancer (this simulated cluster has no load-balancer controller: the external address stays <pending>)',
        component: 'service-controller'
      })
      return
    }
    recordEvent(store, svc, {
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer',
      component: 'service-controller'
    })
    pending.set(
      key,
      schedule(() => assign(svc.metadata.namespace, svc.metadata.name), lb.delayMs || 0)
    )
  }
}

// --- service-account tokens --------------------------------------------------------------------
// Fills kubernetes.io/service-account-token Secrets with a token valid on this server, ca.crt and
// namespace; the token stops working when its Secret is deleted. Unlike the real controller it does not
// require the ServiceAccount to exist first (tolerant of callers that create the Secret first).
/** @param {ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
function tokens({ store, caPem, issueToken, revokeToken }) {
  const b64 = (/** @type {string} */ s) => Buffer.from(s).toString('base64')
  return (e) => {
    const s = e.object
    if (!isKind(s, 'v1', 'Secret') || s.type !== SA_TOKEN) return
    if (e.type === 'DELETED') {
      if (s.data?.token) revokeToken(Buffer.from(s.data.token, 'base64').toString())
      return
    }
    const saName = s.metadata.annotations?.[SA_NAME]
    if (!saName || s.data?.token) return
    const ns = s.metadata.namespace
    const sa = store.get('v1', 'ServiceAccount', ns, saName)
    const annotations = { ...s.metadata.annotations }
    if (sa) annotations['kubernetes.io/service-account.uid'] = sa.metadata.uid
    store.put({
      ...s,
      metadata: { ...s.metadata, annotations },
      data: { ...s.data, token: b64(issueToken(ns, saName)), 'ca.crt': b64(caPem), namespace: b64(ns) }
    })
  }
}

// --- deployments -------------------------------------------------------------------------------
// Each generation gets `replicas` Pods labelled like the template; after deploymentReadyDelayMs the Pods
// run and the Deployment's status reports them ready, available and updated (what rollout status reads).
/** @param {ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
function deployments({ store, name: clusterName, index, deploymentReadyDelayMs = 0, images, schedule, cancel, mesh }) {
  /** @type {Map<string, number>} */
  const handled = new Map() // deployment uid → generation reconciled
  /** @type {Map<string, NodeJS.Timeout>} */
  const readyTimers = new Map()
  let podIp = 10

  /** @param {KubeObject} d */
  const templateHash = (d) =>
    createHash('sha256')
      .update(JSON.stringify(d.spec?.template || {}))
      .digest('hex')
      .slice(0, 10)

  /** @param {KubeObject} d @returns {KubeObject[]} */
  const ownedPods = (d) =>
    store
      .list('v1', 'Pod', d.metadata.namespace)
      .filter((p) => (p.metadata.ownerReferences || []).some((/** @type {any} */ o) => o.uid === d.metadata.uid))

  /** @param {KubeObject} d @param {string} hash @param {boolean} ready */
  const podFor = (d, hash, ready) => {
    const template = d.spec?.template || {}
    const name = `${d.metadata.name}-${hash}-${randomSuffix()}`
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata?.labels, 'pod-template-hash': hash },
        ...(template.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true
          }
        ]
      },
      spec: { ...structuredClone(template.spec || {}), nodeName: `${clusterName}-control-plane` },
      status: { podIP: `10.244.${index}.${podIp++ % 250}`, hostIP: `172.18.0.${index + 1}`, startTime: nowTimestamp() }
    }
    injectProxyImage(store, pod, mesh, clusterName)
    return withPodStatus(pod, ready, images.unpullable)
  }

  // Counts come from the Pods, so scaling up keeps the already-running ones ready.
  /** @param {KubeObject} d */
  const status = (d) => {
    const replicas = d.spec?.replicas ?? 1
    // Ready, not only Running: a crash-looping container leaves its pod Running (istiod.js).
    const n = ownedPods(d).filter(
      (p) =>
        p.status?.phase === 'Running' &&
        p.status.conditions?.some((/** @type {any} */ c) => c.type === 'Ready' && c.status === 'True')
    ).length
    const ready = n >= replicas
    const ts = nowTimestamp()
    /** @param {string} type @param {boolean} ok @param {string} reason @param {string} message */
    const cond = (type, ok, reason, message) => ({
      type,
      status: ok ? 'True' : 'False',
      reason,
      message,
      lastUpdateTime: ts,
      lastTransitionTime: ts
    })
    return {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: n,
      availableReplicas: n,
      ...(replicas - n > 0 ? { unavailableReplicas: replicas - n } : {}),
      conditions: [
        ready
          ? cond('Available', true, 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
          : cond('Available', false, 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
        ready
          ? cond(
              'Progressing',
              true,
              'NewReplicaSetAvailable',
              `ReplicaSet "${d.metadata.name}-${templateHash(d)}" has successfully progressed.`
            )
          : cond(
              'Progressing',
              true,
              'ReplicaSetUpdated',
              `ReplicaSet "${d.metadata.name}-${templateHash(d)}" is progressing.`
            )
      ]
    }
  }

  /** @param {string} ns @param {string} name @param {string} uid @param {number} generation */
  const becomeReady = (ns, name, uid, generation) => {
    readyTimers.delete(uid)
    const d = store.get('apps/v1', 'Deployment', ns, name)
    if (!d || d.metadata.uid !== uid || d.metadata.generation !== generation) return
    for (const p of ownedPods(d))
      if (p.status?.phase !== 'Running') store.put(withPodStatus(p, true, images.unpullable))
    store.put({ ...d, status: status(d) })
  }

  return (e) => {
    const d = e.object
    if (!isKind(d, 'apps/v1', 'Deployment')) return
    const uid = d.metadata.uid
    if (e.type === 'DELETED') {
      handled.delete(uid)
      if (readyTimers.has(uid)) cancel(readyTimers.get(uid))
      readyTimers.delete(uid)
      return
    }
    if (handled.get(uid) === d.metadata.generation) return
    handled.set(uid, d.metadata.generation)
    if (readyTimers.has(uid)) cancel(readyTimers.get(uid))

    // Roll the Pods: drop those of older templates and any surplus, add the missing ones.
    const hash = templateHash(d)
    const replicas = d.spec?.replicas ?? 1
    const immediate = deploymentReadyDelayMs <= 0
    let current = 0
    for (const p of ownedPods(d)) {
      if (p.metadata.labels?.['pod-template-hash'] === hash && current < replicas) current++
      else store.delete('v1', 'Pod', p.metadata.namespace, p.metadata.name)
    }
    for (; current < replicas; current++) {
      const pod = store.put(podFor(d, hash, immediate))
      for (const cs of pod.status.containerStatuses)
        if (cs.state.waiting?.reason === 'ImagePullBackOff') recordPullFailure(store, pod, cs)
    }

    const latest = store.get('apps/v1', 'Deployment', d.metadata.namespace, d.metadata.name)
    store.put({ ...latest, status: status(latest) })
    if (!immediate) {
      readyTimers.set(
        uid,
        schedule(
          () => becomeReady(d.metadata.namespace, d.metadata.name, uid, d.metadata.generation),
          deploymentReadyDelayMs
        )
      )
    }
  }
}

// --- images ------------------------------------------------------------------------------------
// Istio's old registries are gone: registry.istio.io/release (a proxy for gcr.io/istio-release) and
// gcr.io/istio-release itself were decommissioned in December 2026 (istio.io blog "An Update on Our Container
// Registry Migration", 2026-07-23; "An update on our move to AWS", 2026-08-21). No node can pull from them, so a
// container whose image is there never starts; pods that already run keep their image (it is on the node).
export const RETIRED_REGISTRIES = ['registry.istio.io/release', 'gcr.io/istio-release']

/** @param {string} image @param {string[]} registries */
const underRegistry = (image, registries) => registries.some((r) => image === r || image.startsWith(`${r}/`))

// What containerd answers for an image its registry no longer serves (a kind node), as the kubelet reports it.
const pullError = (/** @type {string} */ image) =>
  `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`

/**
 * pkg/kubelet/images/image_manager.go (Kubernetes 1.32, PR #127918): while a pull backs off, the waiting reason is
 * ImagePullBackOff and the message `Back-off pulling image "<image>": <error of the last pull>: <its message>`.
 * @param {string} image
 */
function pullBackOff(image) {
  return { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${pullError(image)}` }
}

/**
 * The Failed and BackOff Events the kubelet records for such a container (as `kubectl describe pod` shows them).
 * @param {Store} store @param {KubeObject} pod @param {{ image: string }} cs
 */
export function recordPullFailure(store, pod, cs) {
  recordEvent(store, pod, {
    type: 'Warning',
    reason: 'Failed',
    message: `Failed to pull image "${cs.image}": ${pullError(cs.image)}`,
    component: 'kubelet'
  })
  recordEvent(store, pod, { reason: 'BackOff', message: `Back-off pulling image "${cs.image}"`, component: 'kubelet' })
}

/**
 * The sidecar injector, for containers the charts leave as `image: auto` (the gateways' injection template): when
 * the pod is created it gets `<global.hub>/<global.proxy.image or proxyv2>:<global.tag>` (pkg/kube/inject/inject.go@1.30.3
 * ProxyImage) from the values of the injecting istiod's istio-sidecar-injector[-<rev>] ConfigMap, picked by
 * the pod's istio.io/rev label. It is not re-run later: a running pod keeps the hub of the istiod that injected it.
 * Without an injector, "auto" stays and cannot be pulled, as on a real cluster. Other pods get no sidecar container
 * here (traffic.js judges sidecars from labels). A remote (`profile: remote`: no injector ConfigMap, a webhook that
 * calls its primary through the primary's east-west gateway) is injected from the primary's ConfigMap once the whole
 * chain holds (remote-control-plane.js); otherwise the real webhook call fails (failurePolicy: Fail) and no pod is
 * created — here the pod stays with "auto", unpullable, which the rollout reports alike.
 * @param {Store} store @param {KubeObject} pod @param {import('./index.js').Mesh} [mesh] @param {string} [clusterName]
 */
function injectProxyImage(store, pod, mesh, clusterName) {
  /** @type {any[]} */
  const auto = (pod.spec.containers || []).filter((/** @type {any} */ c) => c.image === 'auto')
  if (!auto.length) return
  const rev = pod.metadata.labels?.['istio.io/rev'] || 'default'
  const name = rev === 'default' ? 'istio-sidecar-injector' : `istio-sidecar-injector-${rev}`
  let cm = store.get('v1', 'ConfigMap', 'istio-system', name)
  const self = clusterName ? mesh?.byName(clusterName) : undefined
  if (!cm && mesh && self) {
    const served = remoteControlPlane(mesh, self, rev)
    if ('home' in served) cm = served.home.store.get('v1', 'ConfigMap', 'istio-system', name)
  }
  let global
  try {
    global = JSON.parse(cm?.data?.values || 'null')?.global
  } catch {
    global = undefined
  }
  if (!global?.hub) return
  const image = global.proxy?.image || 'proxyv2'
  for (const c of auto) c.image = image.includes('/') ? image : `${global.hub}/${image}:${global.tag}`
}

/** @param {KubeObject} pod @param {boolean} ready @param {string[]} [unpullable] @returns {KubeObject} */
export function withPodStatus(pod, ready, unpullable = []) {
  const ts = nowTimestamp()
  /** @type {any[]} */
  const containers = pod.spec?.containers || []
  const stuck = containers
    .filter((c) => c.image === 'auto' || underRegistry(c.image || '', unpullable))
    .map((c) => c.name)
  const running = ready && stuck.length === 0
  /** @param {string} type @param {boolean} ok @param {object} [extra] */
  const cond = (type, ok, extra = {}) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: ts,
    ...extra
  })
  const unready = running
    ? {}
    : stuck.length
      ? { reason: 'ContainersNotReady', message: `containers with unready status: [${stuck.join(' ')}]` }
      : {}
  return {
    ...pod,
    status: {
      ...pod.status,
      phase: running ? 'Running' : 'Pending',
      conditions: [
        cond('PodReadyToStartContainers', ready || stuck.length > 0),
        cond('Initialized', true),
        cond('Ready', running, unready),
        cond('ContainersReady', running, unready),
        cond('PodScheduled', true)
      ],
      containerStatuses: containers.map((c) => {
        const pulls = !stuck.includes(c.name)
        const up = running
        return {
          name: c.name,
          image: c.image,
          imageID: '',
          ready: up,
          started: up,
          restartCount: 0,
          state: up
            ? { running: { startedAt: ts } }
            : pulls
              ? { waiting: { reason: 'ContainerCreating' } }
              : { waiting: pullBackOff(c.image) }
        }
      })
    }
  }
}

// --- namespaces --------------------------------------------------------------------------------
// A new namespace gets the "default" ServiceAccount and the kube-root-ca.crt ConfigMap, as in a real
// cluster; deleting a namespace deletes everything in it (at once: no Terminating phase).
/** @param {ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
function namespaces({ store, caPem }) {
  return (e) => {
    const ns = e.object
    if (!isKind(ns, 'v1', 'Namespace')) return
    const name = ns.metadata.name
    // Namespaces written straight into the store (not through REST defaulting) still become Active.
    if (
      e.type !== 'DELETED' &&
      (ns.status?.phase !== 'Active' || ns.metadata.labels?.['kubernetes.io/metadata.name'] !== name)
    ) {
      store.put({
        ...ns,
        metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, 'kubernetes.io/metadata.name': name } },
        status: { ...ns.status, phase: 'Active' }
      })
    }
    if (e.type === 'ADDED') {
      if (!store.get('v1', 'ServiceAccount', name, 'default')) {
        store.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } })
      }
      if (!store.get('v1', 'ConfigMap', name, 'kube-root-ca.crt')) {
        store.put({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: 'kube-root-ca.crt',
            namespace: name,
            annotations: {
              'kubernetes.io/description':
                'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.'
            }
          },
          data: { 'ca.crt': caPem }
        })
      }
    }
    if (e.type === 'DELETED') {
      for (const o of store.all()) {
        if (o.metadata.namespace === name) store.delete(o.apiVersion, o.kind, name, o.metadata.name)
      }
    }
  }
}

// --- garbage collector -------------------------------------------------------------------------
// Deleting an owner deletes its dependents (background propagation), e.g. a Deployment's Pods.
/** @param {ControllerContext} ctx @returns {(e: ChangeEvent) => void} */
function garbageCollector({ store }) {
  return (e) => {
    if (e.type !== 'DELETED') return
    const uid = e.object.metadata.uid
    for (const o of store.all()) {
      if ((o.metadata.ownerReferences || []).some((/** @type {any} */ r) => r.uid === uid)) {
        store.delete(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name)
      }
    }
  }
}
