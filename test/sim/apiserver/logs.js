// GET /api/v1/namespaces/<ns>/pods/<pod>/log: what `kubectl logs` reads. Which container (pkg/registry/core/pod/
// strategy.go @v1.32 LogLocation → ValidateContainer): none given and one container → that one; none given and several
// → 400 `a container name must be specified for pod <pod>, choose one of: [<names space-separated>]`; a name not in
// the pod → 400 `container <c> is not valid for pod <pod>`; no node → 400 `pod <pod> does not have a host assigned`.
// The kubelet (pkg/kubelet/kubelet_pods.go validateContainerLogStatus) refuses a container that has not started:
// `container "<c>" in pod "<pod>" is waiting to start: <reason>` (400; `trying and failing to pull image` while the
// pull backs off). It answers text/plain, the last `tailLines` lines, cut at `limitBytes` (PodLogOptions,
// pkg/apis/core/types.go). Not modelled: follow, sinceSeconds, timestamps, previous.
//
// What a container has written: a pod the simulator ran to completion (jobs.js: the probe pods) what it printed
// (ctx.podLogs); istiod's discovery container its secret controller's lines about remote clusters (below); every
// other container nothing.
import { ApiError, errors } from './status.js'

/** @typedef {import('./context.js').ServerContext} ServerContext */
/** @typedef {import('./index.js').KubeObject} KubeObject */

const POD = { group: '', plural: 'pods', kind: 'Pod' }
const ISTIO_NS = 'istio-system'
const MULTICLUSTER_LABEL = 'istio/multiCluster'
// Simulator default, as the simulated istioctl remote-clusters (real istiod: PILOT_REMOTE_CLUSTER_TIMEOUT, 30s).
const DEFAULT_TIMEOUT_MS = 3000

/** @param {string[]} segs @returns {{ namespace: string, name: string } | undefined} */
export function logTarget(segs) {
  if (
    segs.length === 7 &&
    segs[0] === 'api' &&
    segs[1] === 'v1' &&
    segs[2] === 'namespaces' &&
    segs[4] === 'pods' &&
    segs[6] === 'log'
  )
    return { namespace: segs[3], name: segs[5] }
  return undefined
}

/** A forbid fault on a log names the subresource, as the real authorizer does. @param {string} user @param {{ namespace: string, name: string }} t */
export function logForbidden(user, { namespace, name }) {
  return new ApiError(
    403,
    'Forbidden',
    `pods "${name}" is forbidden: User "${user}" cannot get resource "pods/log" in API group "" in the namespace "${namespace}"`,
    { name, kind: 'pods' }
  )
}

/**
 * handler.js routes a log here before the resources (a forbid fault names pods/log).
 * @param {ServerContext} ctx @param {import('node:http').ServerResponse} res @param {URL} url
 * @param {{ namespace: string, name: string }} t
 */
export function servePodLog(ctx, res, url, { namespace, name }) {
  const pod = ctx.store.get('v1', 'Pod', namespace, name)
  if (!pod) throw errors.notFound(POD, name)
  return sendPodLog(ctx, res, url.searchParams, pod)
}

/**
 * @param {ServerContext} ctx @param {import('node:http').ServerResponse} res @param {URLSearchParams} q
 * @param {KubeObject} pod
 */
export function sendPodLog(ctx, res, q, pod) {
  const name = pod.metadata.name
  /** @type {string[]} */
  const names = (pod.spec?.containers || []).map((/** @type {any} */ c) => c.name)
  let container = q.get('container') || ''
  if (!container) {
    if (names.length === 1) container = names[0]
    else if (!names.length) throw errors.badRequest(`a container name must be specified for pod ${name}`)
    else
      throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`)
  } else if (!names.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`)
  if (!pod.spec?.nodeName) throw errors.badRequest(`pod ${name} does not have a host assigned`)
  const status = (pod.status?.containerStatuses || []).find((/** @type {any} */ c) => c.name === container)
  const waiting = status?.state?.waiting
  if (!status || waiting) {
    const why =
      waiting?.reason === 'ImagePullBackOff'
        ? 'trying and failing to pull image'
        : waiting?.reason || 'ContainerCreating'
    throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`)
  }
  let lines = containerLog(ctx, pod, container)
  const tail = Number(q.get('tailLines'))
  if (q.has('tailLines') && Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail)
  let body = lines.map((l) => `${l}\n`).join('')
  const limit = Number(q.get('limitBytes'))
  if (q.has('limitBytes') && Number.isInteger(limit) && limit > 0)
    body = Buffer.from(body).subarray(0, limit).toString()
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) })
  res.end(body)
}

/** @param {ServerContext} ctx @param {KubeObject} pod @param {string} container @returns {string[]} */
function containerLog(ctx, pod, container) {
  const printed = ctx.podLogs.get(`${pod.metadata.namespace}/${pod.metadata.name}`)
  if (printed !== undefined) return printed.split('\n').filter((l, i, all) => l || i < all.length - 1)
  if (pod.metadata.labels?.app !== 'istiod' || container !== 'discovery') return []
  return istiodSecretLines(ctx, pod)
}

/** istio's log time: UTC with microseconds (pkg/log/config.go formatDate, 1.30.3). @param {number} ms */
const stamp = (ms) => new Date(ms).toISOString().replace(/Z$/, '000Z')

/** Go's time.Duration String() for whole milliseconds: 3s, 1.5s, 250ms. @param {number} ms */
function goDuration(ms) {
  if (ms < 1000) return `${ms}ms`
  if (ms < 60_000) return `${ms / 1000}s`
  const m = Math.floor(ms / 60_000)
  return `${m}m${(ms - m * 60_000) / 1000}s`
}

/**
 * The info/error lines istiod 1.30.3's secret controller writes for each remote secret in istio-system, in the
 * default scope (no scope column; pkg/log/scope.go): `processing remote config event for <ns>/<secret>`, then per
 * cluster ID `Add cluster` with the labels `cluster=<id> config=<ns>/<secret>` after a tab, then `Number of remote
 * clusters: <n>` (pkg/kube/multicluster/secretcontroller.go); and `remote cluster <id> failed to sync after <timeout>`
 * once the timeout has passed for a cluster the pod cannot reach (cluster.go Run). Unreachable here: a server on a
 * loopback address (the pod itself) or an `unreachableFrom` fault for this pod; a refused token and the pod's
 * PILOT_REMOTE_CLUSTER_TIMEOUT are not modelled here (the simulated istioctl remote-clusters models both).
 * @param {ServerContext} ctx @param {KubeObject} pod @returns {string[]}
 */
function istiodSecretLines(ctx, pod) {
  const started = Date.parse(pod.status?.startTime || pod.metadata.creationTimestamp || '') || Date.now()
  const timeoutMs = ctx.remoteClusters.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const cut = ctx.faults
    .unreachableFrom()
    .filter(
      (f) =>
        (!f.pod || pod.metadata.name.startsWith(f.pod)) &&
        Object.entries(f.labels || {}).every(([k, v]) => pod.metadata.labels?.[k] === v)
    )
    .map((f) => f.cluster)
  const secrets = ctx.store
    .list('v1', 'Secret', ISTIO_NS)
    .filter((s) => s.metadata.labels?.[MULTICLUSTER_LABEL] === 'true')
    .sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp))
  /** @type {[number, string][]} */
  const lines = [[started, 'info\tStarting multicluster remote secrets controller']]
  let count = 0
  for (const s of secrets) {
    const at = Math.max(started, Date.parse(s.metadata.creationTimestamp) || started)
    const key = `${ISTIO_NS}/${s.metadata.name}`
    lines.push([at, `info\tprocessing remote config event for ${key}`])
    for (const [id, data] of Object.entries(s.data || {})) {
      count++
      lines.push([at, `info\tAdd cluster\tcluster=${id} config=${key}`])
      const server = /server:\s*"?([^"\s]+)/.exec(Buffer.from(String(data), 'base64').toString())?.[1] || ''
      // As the simulated istioctl remote-clusters models it: from a pod, a loopback address is the pod itself.
      const loopback = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(server)
      if ((loopback || cut.includes(id)) && Date.now() >= at + timeoutMs)
        lines.push([at + timeoutMs, `error\tremote cluster ${id} failed to sync after ${goDuration(timeoutMs)}`])
    }
    lines.push([at, `info\tNumber of remote clusters: ${count}`])
  }
  return lines.sort((a, b) => a[0] - b[0]).map(([t, l]) => `${stamp(t)}\t${l}`)
}
