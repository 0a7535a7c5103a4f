// `istioctl proxy-config endpoint <pod-name[.namespace]> [-o json|yaml|short] [--cluster c] [--address a] [--port p]
// [--status s]` (istioctl/pkg/proxyconfig/proxyconfig.go endpointConfigCmd, istioctl/pkg/writer/envoy/clusters/
// clusters.go @1.30.3). Real istioctl port-forwards to the pod's Envoy admin port (15000) and GETs
// /clusters?format=json; the simulator has no Envoy, so it asks the API server's /sim/v1/proxy-clusters, which
// computes that answer from the mesh (apiserver/proxy-clusters.js). Output as the real writer prints it:
// - json/yaml: the ClusterStatus messages that have at least one host matching the filter, jsonpb-marshalled
//   (lowerCamelCase field names) into an array indented by 4 spaces (MessageSlice, protomarshal.Marshal), then "\n";
// - short (default): ENDPOINT STATUS OUTLIER CHECK CLUSTER, sorted by address, port, cluster (tabwriter).
// Only the endpoint subcommand is modelled; `<type>/<name>` pod references take `deployment/<name>` (its first
// Running pod). Errors are worded as `failed to execute command on Envoy: …`.
import * as yaml from 'js-yaml'
import { CliError } from './errors.js'
import { Kube, KubeError, collectionPath } from './kube.js'
import { tabwrite } from './util.js'

/** snake_case proto names (Envoy's admin JSON) → jsonpb's lowerCamelCase. @param {any} v @returns {any} */
function camel(v) {
  if (Array.isArray(v)) return v.map(camel)
  if (!v || typeof v !== 'object') return v
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), camel(x)])
  )
}

/**
 * @param {Kube} kube @param {string} ref @param {string} defaultNs
 * @returns {Promise<{ name: string, namespace: string }>}
 */
async function podOf(kube, ref, defaultNs) {
  const [typed, namespace = defaultNs] = ref.split(/\.(.*)/s)
  const [type, name] = typed.includes('/') ? typed.split('/') : ['pod', typed]
  if (['pod', 'pods', 'po'].includes(type)) return { name, namespace }
  if (!['deployment', 'deployments', 'deploy'].includes(type)) throw new CliError(`unsupported resource type ${type}`)
  const d = await kube.getObject('apps/v1', 'Deployment', namespace, name)
  if (!d) throw new CliError(`deployments.apps "${name}" not found`)
  const selector = Object.entries(d.spec?.selector?.matchLabels || {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  const pods = (await kube.list(collectionPath('v1', 'Pod', namespace), { labelSelector: selector })) || []
  const running = pods.find((/** @type {any} */ p) => p.status?.phase === 'Running')
  if (!running) throw new CliError(`no running pods found for deployment ${name}`)
  return { name: running.metadata.name, namespace }
}

/**
 * @param {Record<string, any>} f parsed flags (__args: positionals)
 * @param {{ stdout: NodeJS.WritableStream }} io
 */
export async function runProxyConfig(f, io) {
  const [sub, ref] = f.__args || []
  if (!['endpoint', 'endpoints', 'ep'].includes(sub))
    throw new CliError(`"istioctl proxy-config ${sub ?? ''}" is not implemented by the simulated istioctl`)
  if (!ref) throw new CliError('endpoints requires pod name or --file parameter')
  const kube = Kube.fromFlags(f)
  let answer
  try {
    const pod = await podOf(kube, ref, f.namespace || 'default')
    const res = await kube.request(
      'GET',
      `/sim/v1/proxy-clusters?namespace=${encodeURIComponent(pod.namespace)}&pod=${encodeURIComponent(pod.name)}`
    )
    if (res.status !== 200) throw Kube.statusError(res)
    answer = res.body
  } catch (err) {
    if (err instanceof KubeError) throw new CliError(`failed to execute command on Envoy: ${err.message}`)
    throw err
  }
  if (answer?.error) throw new CliError(`failed to execute command on Envoy: ${answer.error}`)
  const matches = (/** @type {any} */ cluster, /** @type {any} */ h) =>
    (!f.address || h.address?.socket_address?.address?.toLowerCase() === String(f.address).toLowerCase()) &&
    (!f.port || h.address?.socket_address?.port_value === f.port) &&
    (!f.cluster || String(cluster.name).toLowerCase() === String(f.cluster).toLowerCase()) &&
    (!f.status || h.health_status?.eds_health_status?.toLowerCase() === String(f.status).toLowerCase())
  /** @type {any[]} */
  const clusters = answer?.cluster_statuses || []
  const output = f.output || 'short'
  if (output === 'json' || output === 'yaml') {
    const picked = clusters.filter((c) => (c.host_statuses || []).some((/** @type {any} */ h) => matches(c, h)))
    const text = JSON.stringify(camel(picked), null, 4)
    io.stdout.write(`${output === 'yaml' ? yaml.dump(JSON.parse(text)) : text}\n`)
    return
  }
  if (output !== 'short') throw new CliError(`output format "${output}" not supported`)
  const rows = clusters.flatMap((c) =>
    (c.host_statuses || [])
      .filter((/** @type {any} */ h) => matches(c, h))
      .map((/** @type {any} */ h) => ({
        address: h.address.socket_address.address,
        port: h.address.socket_address.port_value,
        cluster: c.name,
        status: h.health_status?.eds_health_status || 'UNKNOWN'
      }))
  )
  rows.sort((a, b) =>
    a.address === b.address
      ? a.port === b.port
        ? a.cluster < b.cluster
          ? -1
          : 1
        : a.port - b.port
      : a.address < b.address
        ? -1
        : 1
  )
  io.stdout.write(
    tabwrite([
      ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'],
      ...rows.map((r) => [`${r.address}:${r.port}`, r.status, 'OK', r.cluster])
    ])
  )
}
