// `istioctl remote-clusters`: what each istiod's debug/clusterz reports. The simulator cannot ask istiod,
// so it decides each remote secret's status itself: can a client *inside this cluster* reach the server
// named in the secret, with its CA and token?
import * as yaml from 'js-yaml'
import { CliError } from './errors.js'
import { Kube, asCliError, collectionPath } from './kube.js'
import { behave } from './install.js'
import { CLIENT_VERSION } from './runtime.js'
import { tabwrite } from './util.js'

const minorOf = (v) => Number(/^(\d+)\.(\d+)/.exec(v)?.[2] ?? 99)

function envOf(podSpec, name) {
  for (const c of podSpec?.containers || []) {
    const e = (c.env || []).find((x) => x.name === name)
    if (e && typeof e.value === 'string') return e.value
  }
  return undefined
}

/** The running istiods: Running + Ready pods labelled app=istiod, else ready istiod Deployments. */
async function runningIstiods(kube, ns, revision) {
  const pods = (await kube.list(collectionPath('v1', 'Pod', ns), { labelSelector: 'app=istiod', fieldSelector: 'status.phase=Running' })) || []
  const ready = pods.filter((p) => p.status?.phase === 'Running' && (p.status?.conditions || []).some((c) => c.type === 'Ready' && c.status === 'True'))
  let istiods = ready.map((p) => ({ name: p.metadata.name, rev: p.metadata.labels?.['istio.io/rev'] || 'default', spec: p.spec }))
  if (!istiods.length) {
    const deps = (await kube.list(collectionPath('apps/v1', 'Deployment', ns), { labelSelector: 'app=istiod' })) || []
    istiods = deps
      .filter((d) => (d.status?.readyReplicas || 0) > 0)
      .map((d) => ({ name: d.metadata.name, rev: d.metadata.labels?.['istio.io/rev'] || 'default', spec: d.spec?.template?.spec }))
  }
  if (revision && revision !== 'default') istiods = istiods.filter((i) => i.rev === revision)
  return istiods.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

/** synced when this cluster could reach and authenticate to the secret's API server, else timeout. */
async function remoteStatus(kubeconfigText) {
  let cfg
  try {
    cfg = yaml.load(kubeconfigText)
  } catch {
    return 'timeout'
  }
  const ctx = (cfg?.contexts || []).find((c) => c.name === cfg['current-context'])?.context || {}
  const cluster = (cfg?.clusters || []).find((c) => c.name === ctx.cluster)?.cluster
  const user = (cfg?.users || []).find((u) => u.name === ctx.user)?.user || {}
  if (!cluster?.server) return 'timeout'
  let host
  try {
    host = new URL(cluster.server).hostname
  } catch {
    return 'timeout'
  }
  // Seen from a pod in this cluster, a loopback address is the pod itself: nothing answers there.
  if (LOOPBACK.has(host)) return 'timeout'
  const kube = new Kube({
    server: cluster.server,
    caPem: cluster['certificate-authority-data'] ? Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8') : undefined,
    insecure: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'],
    token: user.token,
    timeoutMs: 2000
  })
  try {
    const res = await kube.request('GET', '/api')
    return res.status === 200 ? 'synced' : 'timeout'
  } catch {
    return 'timeout'
  }
}

/**
 * @param {Record<string, any>} f parsed flags
 * @param {{ stdout: NodeJS.WritableStream }} io
 */
export async function runRemoteClusters(f, io) {
  const kube = Kube.fromFlags(f)
  await behave(kube, 'remote-clusters')
  const ns = f.istioNamespace
  let istiods
  let secrets
  try {
    istiods = await runningIstiods(kube, ns, f.revision)
    if (!istiods.length) throw new CliError(`no running Istio pods in "${ns}"`)
    // istiod watches remote secrets only in its own namespace (pkg/kube/multicluster/secretcontroller.go, 1.30.3).
    secrets = (await kube.list(collectionPath('v1', 'Secret', ns), { labelSelector: 'istio/multiCluster=true' })) || []
  } catch (err) {
    throw asCliError(err)
  }

  const withRevision = minorOf(CLIENT_VERSION) >= 31
  const rows = [['NAME', 'SECRET', 'STATUS', 'ISTIOD', ...(withRevision ? ['REVISION'] : [])]]
  for (const istiod of istiods) {
    const localId = envOf(istiod.spec, 'CLUSTER_ID') || 'Kubernetes'
    const row = (id, secret, status) => [id, secret, status, istiod.name, ...(withRevision ? [istiod.rev] : [])]
    rows.push(row(localId, '', 'synced'))
    for (const s of secrets) {
      if (s.metadata.name === 'istio-kubeconfig') continue
      const data = {
        ...Object.fromEntries(Object.entries(s.data || {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
        ...(s.stringData || {})
      }
      for (const id of Object.keys(data).sort()) {
        // istiod ignores a remote secret for its own cluster ID.
        if (id === localId) continue
        rows.push(row(id, `${ns}/${s.metadata.name}`, await remoteStatus(data[id])))
      }
    }
  }
  io.stdout.write(tabwrite(rows))
}
