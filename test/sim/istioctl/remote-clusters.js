// `istioctl remote-clusters`: what each istiod pod's debug/clusterz reports. The simulator cannot ask istiod,
// so it models what istiod's secret controller would report for each remote secret, pod by pod.
//
// Which istiods (istioctl/pkg/proxyconfig/clusters.go, istioctl/pkg/cli/context.go, pkg/kube/client.go @1.30.3):
//   CLIClientWithRevision(RevisionOrDefault(--revision)); AllDiscoveryDo lists pods `app=istiod,istio.io/rev=<rev>`
//   with `status.phase=Running` (no readiness check) and asks each one. Without --revision the revision is the
//   default tag's: the `istio.io/rev` label of MutatingWebhookConfiguration `istio-revision-tag-default`
//   (pkg/revisions/default_watcher.go), else "default". No such pod: `unable to find any Istiod instances`.
// One row per pod and cluster: the pod's own cluster first (SECRET empty), then one per cluster ID of each remote
//   secret (pkg/kube/multicluster/secretcontroller.go ListRemoteClusters, SecretName = "<namespace>/<name>").
//   1.31 adds REVISION (the pod's istio.io/rev label, empty without it) and sorts by pod; 1.30 prints them in Go
//   map order (the simulator sorts).
// Status per remote cluster (pkg/kube/multicluster/cluster.go @1.30.3): `syncing` from the moment istiod starts
//   the cluster (istiod start, or the secret's arrival), `synced` once its informers synced, `timeout` if not
//   synced after PILOT_REMOTE_CLUSTER_TIMEOUT (pilot/pkg/features/pilot.go: 30s; 0 disables it), `closed` once
//   stopped. A kubeconfig istiod cannot build a client from, or a cluster ID another secret already registered,
//   is not listed at all (secretcontroller.go addRemoteConfig).
// The model: reachable = a client *inside this cluster* reaches and authenticates to the secret's server (a live
//   request; loopback is the pod itself, so unreachable) and no `unreachableFrom` fault cuts that pod off. It is
//   `syncing` for syncMs after max(pod start, secret creationTimestamp) (+ up to 1 s: whole-second timestamps),
//   then `synced`; unreachable, it is
//   `syncing` until the timeout, then `timeout`. Times come from the API server's /sim/v1/behaviour
//   (remoteClusters: syncMs, timeoutMs, unreachableFrom); PILOT_REMOTE_CLUSTER_TIMEOUT in the pod's env wins,
//   as in istiod. Not modelled: `closed` (a replaced secret restarts syncing in real istiod; here only its
//   creationTimestamp counts), and a cluster that synced and became unreachable later (real: stays `synced`).
import * as yaml from 'js-yaml'
import { CliError } from './errors.js'
import { Kube, KubeError, asCliError, collectionPath } from './kube.js'
import { behave } from './install.js'
import { parseDuration } from './duration.js'
import { CLIENT_VERSION, minorOf } from './runtime.js'
import { tabwrite } from './util.js'

// Simulator defaults, short so tests stay fast (real istiod: synced within seconds, timeout after 30s).
const DEFAULT_SYNC_MS = 1000
const DEFAULT_TIMEOUT_MS = 3000

/** @param {any} podSpec @param {string} name @returns {string | undefined} */
function envOf(podSpec, name) {
  for (const c of podSpec?.containers || []) {
    const e = (c.env || []).find((/** @type {any} */ x) => x.name === name)
    if (e && typeof e.value === 'string') return e.value
  }
  return undefined
}

const timeOf = (/** @type {string | undefined} */ ts) => (ts ? Date.parse(ts) : NaN)
// API timestamps have whole seconds: count from the end of the second they name, so a status never turns early
// (`syncing` lasts at least syncMs, at most syncMs + 1 s) and tests can rely on it.
const endOfSecond = (/** @type {number} */ ms) => ms + 1000

/**
 * When istiod in this pod started: its container's start, else the pod's.
 * @param {any} pod
 * @returns {number}
 */
function podStartMs(pod) {
  /** @type {number | undefined} */
  const running = (pod.status?.containerStatuses || [])
    .map((/** @type {any} */ c) => timeOf(c.state?.running?.startedAt))
    .find((/** @type {number} */ t) => !Number.isNaN(t))
  if (running !== undefined) return running
  const started = timeOf(pod.status?.startTime)
  return Number.isNaN(started) ? timeOf(pod.metadata?.creationTimestamp) || 0 : started
}

/**
 * RevisionOrDefault: the default tag's revision, else "default" (also when the webhook cannot be read).
 * @param {Kube} kube
 */
async function defaultRevision(kube) {
  try {
    const wh = await kube.getObject(
      'admissionregistration.k8s.io/v1',
      'MutatingWebhookConfiguration',
      '',
      'istio-revision-tag-default'
    )
    return wh?.metadata?.labels?.['istio.io/rev'] || 'default'
  } catch (err) {
    if (err instanceof KubeError) return 'default'
    throw err
  }
}

/**
 * GetIstioPods with the client's revision, as AllDiscoveryDo calls it.
 * @param {Kube} kube @param {string} ns @param {string} revision
 * @returns {Promise<any[]>}
 */
async function istiodPods(kube, ns, revision) {
  let pods
  try {
    pods = await kube.list(collectionPath('v1', 'Pod', ns), {
      labelSelector: `app=istiod,istio.io/rev=${revision}`,
      fieldSelector: 'status.phase=Running'
    })
  } catch (err) {
    if (err instanceof KubeError) throw new CliError(`unable to retrieve Pods: ${err.message}`)
    throw err
  }
  return (pods || [])
    .filter((p) => p.status?.phase === 'Running')
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0))
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/**
 * What istiod's secret controller builds from one kubeconfig: undefined when it cannot build a client (the cluster
 * is then not listed), else whether a client inside this cluster reaches and authenticates to its server.
 * @param {string} kubeconfigText
 * @param {string[]} [unreachable] host:port addresses the network keeps this cluster from (firewall, TLS proxy)
 * @returns {Promise<{ reachable: boolean } | undefined>}
 */
async function remoteReach(kubeconfigText, unreachable = []) {
  /** @type {any} parsed YAML: any shape */
  let cfg
  try {
    cfg = yaml.load(kubeconfigText)
  } catch {
    return undefined
  }
  const ctx = (cfg?.contexts || []).find((/** @type {any} */ c) => c.name === cfg['current-context'])?.context || {}
  const cluster = (cfg?.clusters || []).find((/** @type {any} */ c) => c.name === ctx.cluster)?.cluster
  const user = (cfg?.users || []).find((/** @type {any} */ u) => u.name === ctx.user)?.user || {}
  if (!cluster?.server) return undefined
  let host
  let port
  try {
    const u = new URL(cluster.server)
    host = u.hostname
    port = u.port || '443'
  } catch {
    return undefined
  }
  // Seen from a pod in this cluster, a loopback address is the pod itself: nothing answers there.
  if (LOOPBACK.has(host)) return { reachable: false }
  // A firewall drops istiod's connections, or a TLS-intercepting proxy's certificate fails verification: its
  // informers never sync (the simulator's network model, apiserver/network.js).
  if (unreachable.includes(`${host}:${port}`)) return { reachable: false }
  const kube = new Kube({
    server: cluster.server,
    caPem: cluster['certificate-authority-data']
      ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8')
      : undefined,
    insecure: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'],
    token: user.token,
    timeoutMs: 2000
  })
  try {
    const res = await kube.request('GET', '/api')
    return { reachable: res.status === 200 }
  } catch {
    return { reachable: false }
  }
}

/**
 * pkg/kube/multicluster/cluster.go SyncStatus, on the simulator's clock.
 * @param {{ reachable: boolean, startedAt: number, now: number, syncMs: number, timeoutMs: number }} s
 */
export function modelledStatus({ reachable, startedAt, now, syncMs, timeoutMs }) {
  const elapsed = now - startedAt
  if (reachable) return elapsed >= syncMs ? 'synced' : 'syncing'
  return timeoutMs > 0 && elapsed >= timeoutMs ? 'timeout' : 'syncing'
}

/**
 * An `unreachableFrom` fault ({ pod?: name prefix, labels?: {…}, cluster }) that cuts this pod off from `clusterId`.
 * @param {Array<{ cluster: string, pod?: string, labels?: Record<string, string> }> | undefined} faults
 * @param {any} pod @param {string} clusterId
 */
function cutOff(faults, pod, clusterId) {
  return (faults || []).some(
    (f) =>
      f.cluster === clusterId &&
      (!f.pod || pod.metadata.name.startsWith(f.pod)) &&
      Object.entries(f.labels || {}).every(([k, v]) => pod.metadata.labels?.[k] === v)
  )
}

/**
 * @param {Record<string, any>} f parsed flags
 * @param {{ stdout: NodeJS.WritableStream }} io
 */
export async function runRemoteClusters(f, io) {
  const kube = Kube.fromFlags(f)
  const knobs = (await behave(kube, 'remote-clusters'))?.remoteClusters || {}
  const ns = f.istioNamespace
  const revision = f.revision || (await defaultRevision(kube))
  /** @type {any[]} */
  let pods
  /** @type {any[]} */
  let secrets
  try {
    pods = await istiodPods(kube, ns, revision)
    if (!pods.length) throw new CliError('unable to find any Istiod instances')
    // istiod watches remote secrets only in its own namespace (pkg/kube/multicluster/secretcontroller.go, 1.30.3).
    secrets = (await kube.list(collectionPath('v1', 'Secret', ns), { labelSelector: 'istio/multiCluster=true' })) || []
  } catch (err) {
    throw asCliError(err)
  }
  secrets.sort(
    (a, b) =>
      timeOf(a.metadata.creationTimestamp) - timeOf(b.metadata.creationTimestamp) ||
      (a.metadata.name < b.metadata.name ? -1 : 1)
  )

  // Every pod reads the same secrets: build each remote cluster once.
  /** @type {Array<{ id: string, secret: string, createdAt: number, reachable: boolean }>} */
  const remotes = []
  /** @type {Set<string>} */
  const registered = new Set()
  for (const s of secrets) {
    const data = {
      ...Object.fromEntries(
        Object.entries(s.data || {}).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')])
      ),
      ...(s.stringData || {})
    }
    for (const id of Object.keys(data).sort()) {
      // A cluster ID registered by an earlier secret is ignored ("cluster has already been registered").
      if (registered.has(id)) continue
      const reach = await remoteReach(data[id], knobs.network?.unreachable)
      if (!reach) continue
      registered.add(id)
      remotes.push({
        id,
        secret: `${ns}/${s.metadata.name}`,
        createdAt: endOfSecond(timeOf(s.metadata.creationTimestamp) || 0),
        reachable: reach.reachable
      })
    }
  }

  const withRevision = minorOf(CLIENT_VERSION) >= 31
  const rows = [['NAME', 'SECRET', 'STATUS', 'ISTIOD', ...(withRevision ? ['REVISION'] : [])]]
  const now = Date.now()
  for (const pod of pods) {
    const spec = pod.spec
    const localId = envOf(spec, 'CLUSTER_ID') || 'Kubernetes'
    const envTimeout = envOf(spec, 'PILOT_REMOTE_CLUSTER_TIMEOUT')
    const parsedTimeout = envTimeout === undefined ? undefined : parseDuration(envTimeout)
    const timeoutMs = parsedTimeout ?? knobs.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const syncMs = knobs.syncMs ?? DEFAULT_SYNC_MS
    const startedAt = endOfSecond(podStartMs(pod))
    /** @param {string} id @param {string} secret @param {string} status */
    const row = (id, secret, status) => [
      id,
      secret,
      status,
      pod.metadata.name,
      ...(withRevision ? [pod.metadata.labels?.['istio.io/rev'] ?? ''] : [])
    ]
    rows.push(row(localId, '', 'synced'))
    for (const r of remotes) {
      // istiod ignores a remote secret for its own cluster ID.
      if (r.id === localId) continue
      const reachable = r.reachable && !cutOff(knobs.unreachableFrom, pod, r.id)
      rows.push(
        row(
          r.id,
          r.secret,
          modelledStatus({ reachable, startedAt: Math.max(startedAt, r.createdAt), now, syncMs, timeoutMs })
        )
      )
    }
  }
  io.stdout.write(tabwrite(rows))
}
