// GET /api/v1/namespaces/<ns>/pods/<pod>/log[?container=…]: what the pod's container printed (`kubectl logs`), for
// the pods the simulator runs to completion (jobs.js stores their output in ctx.podLogs).
// As Kubernetes 1.32: pkg/registry/core/pod/strategy.go LogLocation picks the container (the only one, else
// `a container name must be specified for pod <pod>, choose one of: [<names>]`; an unknown one: `container <c> is not
// valid for pod <pod>`, both 400); the kubelet (pkg/kubelet/kubelet_pods.go validateContainerLogStatus) refuses a
// container that has not started: `container "<c>" in pod "<pod>" is waiting to start: <reason>` (400;
// `trying and failing to pull image` while the pull backs off). The log is text/plain. Not modelled: follow,
// tailLines, sinceSeconds, timestamps, previous (the whole log is served every time).
import { ApiError, errors } from './status.js'

const POD = { group: '', plural: 'pods', kind: 'Pod' }

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

/** @param {string} user @param {{ namespace: string, name: string }} t */
export function logForbidden(user, { namespace, name }) {
  return new ApiError(
    403,
    'Forbidden',
    `pods "${name}" is forbidden: User "${user}" cannot get resource "pods/log" in API group "" in the namespace "${namespace}"`,
    { name, kind: 'pods' }
  )
}

/**
 * @param {import('./context.js').ServerContext} ctx @param {import('node:http').ServerResponse} res @param {URL} url
 * @param {{ namespace: string, name: string }} t
 */
export function servePodLog(ctx, res, url, { namespace, name }) {
  const pod = ctx.store.get('v1', 'Pod', namespace, name)
  if (!pod) throw errors.notFound(POD, name)
  const names = (pod.spec?.containers || []).map((/** @type {any} */ c) => c.name)
  let container = url.searchParams.get('container') || ''
  if (!container) {
    if (names.length !== 1)
      throw errors.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`)
    container = names[0]
  }
  if (!names.includes(container)) throw errors.badRequest(`container ${container} is not valid for pod ${name}`)
  const status = (pod.status?.containerStatuses || []).find((/** @type {any} */ c) => c.name === container)
  const waiting = status?.state?.waiting
  if (!status || waiting) {
    const why =
      waiting?.reason === 'ImagePullBackOff'
        ? 'trying and failing to pull image'
        : waiting?.reason || 'ContainerCreating'
    throw errors.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`)
  }
  res.writeHead(200, { 'Content-Type': 'text/plain' })
  res.end(ctx.podLogs.get(`${namespace}/${name}`) ?? '')
}
