// `istioctl install` (operator/cmd/mesh/install.go + operator/pkg/install): merge and validate the
// IstioOperator, confirm, create the namespace, apply each component, wait for it, then prune.
import { createHash } from 'node:crypto'
import { CliError, SilentExit } from './errors.js'
import { Kube, KubeError, asCliError, collectionPath } from './kube.js'
import { mergeInputs, readInputs, validateIop, isDns1123Label, getPath } from './iop.js'
import { renderManifests } from './render.js'
import { isRemoteProfile } from './render-remote.js'
import { ProgressLog } from './progress.js'
import { formatDuration } from './duration.js'
import { CLIENT_VERSION, confirm, readAllStdin, sleep } from './runtime.js'
import { ROOT_CERT_ANNOTATION, CA_CERT_ANNOTATION } from './util.js'

// serverSideApply's fieldOwnerOperator (operator/pkg/install/install.go @1.28.10, 1.29.6, 1.30.3), always with force.
export const FIELD_MANAGER = 'istio-operator'

/** @typedef {{ stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} Io */

/**
 * getOwnerLabels in operator/pkg/install/install.go.
 * @param {any} iop @param {string} component
 * @returns {Record<string, string>}
 */
export function ownerLabels(iop, component) {
  /** @type {Record<string, string>} */
  const labels = {
    'operator.istio.io/managed': 'Reconcile',
    'operator.istio.io/version': CLIENT_VERSION
  }
  const name = getPath(iop, 'metadata.name')
  if (typeof name === 'string' && name) labels['install.operator.istio.io/owning-resource'] = name
  const ns = getPath(iop, 'metadata.namespace')
  if (typeof ns === 'string' && ns) labels['install.operator.istio.io/owning-resource-namespace'] = ns
  labels['istio.io/rev'] = getPath(iop, 'spec.values.revision') || 'default'
  if (component) labels['operator.istio.io/component'] = component
  return labels
}

/** @param {Record<string, string>} labels */
export const labelSelector = (labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')

// PrunedResourcesSchemas (operator/pkg/uninstall/prune.go): namespaced kinds, then cluster kinds (CRDs are never
// pruned). uninstall lists the same, with --purge the CRDs too.
/** @type {Array<[string, string]>} */
export const NAMESPACED_PRUNED_KINDS = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'DaemonSet'],
  ['v1', 'Service'],
  ['v1', 'ConfigMap'],
  ['v1', 'Pod'],
  ['v1', 'Secret'],
  ['v1', 'ServiceAccount'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['autoscaling/v2', 'HorizontalPodAutoscaler'],
  ['networking.istio.io/v1alpha3', 'EnvoyFilter']
]
/** @type {Array<[string, string]>} */
export const CLUSTER_PRUNED_KINDS = [
  ['admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration'],
  ['admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding']
]
export const PRUNED_KINDS = [...NAMESPACED_PRUNED_KINDS, ...CLUSTER_PRUNED_KINDS]

const objectHash = (/** @type {any} */ o) => `${o.kind}:${o.metadata.namespace || ''}:${o.metadata.name}`
/** @param {string} apiVersion @param {string} kind */
export const gvkString = (apiVersion, kind) =>
  `${apiVersion.includes('/') ? apiVersion : `/${apiVersion}`}, Kind=${kind}`

/**
 * DeleteResource's log line, on stdout.
 * @param {any} obj
 */
export function removedLine(obj) {
  return `  Removed ${gvkString(obj.apiVersion, obj.kind)}/${obj.metadata.name}.${obj.metadata.namespace || ''}.\n`
}

const sha256 = (/** @type {Buffer} */ s) => createHash('sha256').update(s).digest('hex')

/**
 * The root of trust istiod starts with: sha256 of cacerts' root cert, or "self-signed".
 * Warns loudly when cacerts is missing (istiod would self-sign and cross-cluster mTLS would fail).
 * @param {Kube} kube @param {string} ns @param {NodeJS.WritableStream} stderr
 */
async function currentRootCert(kube, ns, stderr) {
  const secret = await kube.getObject('v1', 'Secret', ns, 'cacerts')
  const pem = secret?.data?.['root-cert.pem'] || secret?.data?.['ca.crt']
  if (!pem) {
    stderr.write(
      `! cacerts secret not found in ${ns}: istiod will use a self-signed root; cross-cluster mTLS will fail\n`
    )
    return 'self-signed'
  }
  return sha256(Buffer.from(pem, 'base64'))
}

/**
 * What a running istiod loaded from cacerts is recorded by the cluster when its pods start, and when a plugged-in
 * istiod reloads (test/sim/apiserver/istiod.js, after pilot/pkg/bootstrap/istio_ca.go@1.30.3). An apply must not
 * change that record: it carries the annotations over, and only new pods (a changed template) rewrite them.
 * @param {Kube} kube @param {any} dep
 */
async function pinIstiodRoot(kube, dep) {
  // Fields of other managers, such as kubectl's restartedAt, server-side apply leaves alone (apiserver/managedfields.js).
  const existing = await kube.getObject('apps/v1', 'Deployment', dep.metadata.namespace, dep.metadata.name)
  // Only what the rendered object carries: the cluster's other records (CA_CERT_ANNOTATION) are nobody's fields, and
  // applying them would make them istio-operator's (an ownership change, a write on every re-run).
  for (const key of [ROOT_CERT_ANNOTATION, CA_CERT_ANNOTATION]) {
    const recorded = existing?.metadata?.annotations?.[key]
    if (recorded && key in (dep.metadata.annotations || {})) dep.metadata.annotations[key] = recorded
  }
}

/** @param {Kube} kube @param {string} ns @param {string | undefined} network */
async function ensureNamespace(kube, ns, network) {
  let existing
  try {
    existing = await kube.getObject('v1', 'Namespace', '', ns)
  } catch (err) {
    if (err instanceof KubeError)
      throw new CliError(`failed to install manifests: failed to check if namespace ${ns} exists: ${err.message}`)
    throw err
  }
  if (existing) return
  const labels = network ? { 'topology.istio.io/network': network } : {}
  try {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } })
  } catch (err) {
    if (err instanceof KubeError)
      throw new CliError(`failed to install manifests: failed to create namespace ${ns}: ${err.message}`)
    throw err
  }
}

// --- readiness (operator/pkg/install/wait.go @1.30.3) ---

// extractPodFailureReason: the newest pod first; the first container waiting names the reason, else the first pod
// whose Ready condition is False gives its message (possibly empty).
/** @param {Kube} kube @param {string} ns @param {Record<string, string> | undefined} selector */
async function podFailureReason(kube, ns, selector) {
  /** @type {any[]} */
  let pods
  try {
    pods = (await kube.list(collectionPath('v1', 'Pod', ns), { labelSelector: labelSelector(selector || {}) })) || []
  } catch (err) {
    if (err instanceof KubeError) return `failed to fetch pods: ${err.message}`
    throw err
  }
  const created = (/** @type {any} */ p) => Date.parse(p.metadata?.creationTimestamp || '') || 0
  for (const pod of [...pods].sort((a, b) => created(b) - created(a))) {
    for (const cs of pod.status?.containerStatuses || []) {
      if (cs.state?.waiting)
        return `container failed to start: ${cs.state.waiting.reason || ''}: ${cs.state.waiting.message || ''}`
    }
    const ready = (pod.status?.conditions || []).find((/** @type {any} */ c) => c.type === 'Ready')
    if (ready && ready.status === 'False') return ready.message || ''
  }
  return ''
}

// waitForResources: Deployments are ready when their (new) pods are: the real code compares the new ReplicaSet's
// readyReplicas with spec.replicas; the simulated cluster has no ReplicaSets, so the Deployment's status stands in.
/**
 * @param {Kube} kube @param {any[]} objects
 * @returns {Promise<{ waiting: string[], debug: Record<string, string> }>} debug: why a resource is not ready, by id
 */
async function notReady(kube, objects) {
  /** @type {string[]} */
  const waiting = []
  /** @type {Record<string, string>} */
  const debug = {}
  for (const o of objects) {
    if (o.kind === 'Deployment') {
      const d = await kube.getObject('apps/v1', 'Deployment', o.metadata.namespace, o.metadata.name)
      const want = d?.spec?.replicas ?? 1
      const st = d?.status || {}
      const current = st.observedGeneration === undefined || st.observedGeneration >= (d?.metadata?.generation ?? 0)
      if (!d || !current || (st.readyReplicas || 0) < want) {
        const id = `Deployment/${o.metadata.namespace}/${o.metadata.name}`
        waiting.push(id)
        const reason = d ? await podFailureReason(kube, o.metadata.namespace, d.spec?.selector?.matchLabels) : ''
        if (reason) debug[id] = reason
      }
    } else if (o.kind === 'DaemonSet') {
      // The simulated cluster may run no DaemonSet controller: no status counts as ready.
      const ds = await kube.getObject('apps/v1', 'DaemonSet', o.metadata.namespace, o.metadata.name)
      const st = ds?.status
      if (st && st.desiredNumberScheduled !== undefined && (st.numberReady || 0) < st.desiredNumberScheduled) {
        waiting.push(`DaemonSet/${o.metadata.namespace}/${o.metadata.name}`)
      }
    } else if (o.kind === 'CustomResourceDefinition') {
      const crd = await kube.getObject(o.apiVersion, o.kind, '', o.metadata.name)
      const conds = crd?.status?.conditions
      if (!crd || (conds && !conds.some((/** @type {any} */ c) => c.type === 'Established' && c.status === 'True'))) {
        waiting.push(`CustomResourceDefinition/${o.metadata.name}`)
      }
    }
  }
  return { waiting, debug }
}

// Real istioctl checks once, then polls every 2 s until --readiness-timeout; the simulator polls faster so tests stay quick.
const POLL_MS = 100

/**
 * WaitForResources: one component's objects, up to `timeoutMs` (the deadline is per component, not per install).
 * @param {Kube} kube @param {any[]} objects @param {number} timeoutMs @param {(waiting: string[]) => void} onWaiting
 */
async function waitForResources(kube, objects, timeoutMs, onWaiting) {
  const deadline = Date.now() + timeoutMs
  const timeout = formatDuration(timeoutMs)
  for (let first = true; ; first = false) {
    let state
    try {
      state = await notReady(kube, objects)
    } catch (err) {
      if (!(err instanceof KubeError)) throw err
      // The immediate first check ignores errors; an error while polling ends the wait with it (and no list).
      if (!first)
        throw new CliError(`failed to wait for resource: resources not ready after ${timeout}: ${err.message}\n`)
    }
    if (state && !state.waiting.length) return
    if (state) onWaiting(state.waiting)
    if (Date.now() >= deadline) {
      const { waiting = [], debug = {} } = state || {}
      // As in wait.go: a resource without debug info gets a line of just its indent ("  %s" of the empty debug string).
      const lines = waiting.map((id) => (debug[id] ? `  ${id} (${debug[id]})` : '  '))
      throw new CliError(
        `failed to wait for resource: resources not ready after ${timeout}: context deadline exceeded\n${lines.join('\n')}`
      )
    }
    await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())))
  }
}

// install.go (1.30.3) componentDependencies, inverted: what each component waits for before it applies.
/** @type {Record<string, string[]>} */
const DEPENDS_ON = {
  Pilot: ['Base'],
  Cni: ['Base'],
  IngressGateways: ['Pilot'],
  EgressGateways: ['Pilot'],
  Ztunnel: ['Cni']
}

/**
 * Installer.install: every component in its own goroutine, started when the components it depends on have finished,
 * whether they succeeded or not (a failed Pilot still lets the gateways apply and wait); errors are collected
 * (istiomultierror: one error as is, several as "N errors occurred:\n\t* …") and pruning runs only without any.
 * @param {Array<{ component: string, objects: any[] }>} rendered
 * @param {(component: string, objects: any[]) => Promise<void>} installOne
 */
async function installComponents(rendered, installOne) {
  /** @type {Map<string, Promise<void>>} */
  const done = new Map()
  /** @type {string[]} */
  const errors = []
  for (const { component, objects } of rendered) {
    const parents = (DEPENDS_ON[component] || []).map((p) => done.get(p)).filter(Boolean)
    done.set(
      component,
      Promise.all(parents).then(() =>
        installOne(component, objects).catch((err) => {
          if (!(err instanceof CliError)) throw err
          errors.push(err.message)
        })
      )
    )
  }
  await Promise.all(done.values())
  if (errors.length === 1) throw new CliError(errors[0])
  if (errors.length > 1)
    throw new CliError(`${errors.length} errors occurred:\n\t${errors.map((e) => `* ${e}`).join('\n\t')}\n`)
}

// --- prune (Installer.prune) ---

/**
 * The objects of one kind that `selector` matches, each with its apiVersion and kind (a list's items carry neither);
 * none when the cluster does not serve the kind.
 * @param {Kube} kube @param {string} apiVersion @param {string} kind @param {string} selector
 * @returns {Promise<any[]>}
 */
export async function listKind(kube, apiVersion, kind, selector) {
  let items
  try {
    items = await kube.list(collectionPath(apiVersion, kind, ''), { labelSelector: selector })
  } catch (err) {
    if (err instanceof KubeError && err.status === 404) return []
    throw err
  }
  return (items || []).map((obj) => ({ ...obj, apiVersion, kind }))
}

/**
 * @param {Kube} kube @param {any} iop @param {Array<{ component: string, objects: any[] }>} rendered
 * @param {NodeJS.WritableStream} stdout
 */
async function prune(kube, iop, rendered, stdout) {
  const keep = new Map(rendered.map((r) => [r.component, new Set(r.objects.map(objectHash))]))
  const core = ownerLabels(iop, '')
  const selector = `${labelSelector(core)},operator.istio.io/component`
  const COMPONENTS = ['Base', 'Pilot', 'IngressGateways', 'EgressGateways', 'Cni', 'Ztunnel']
  for (const [apiVersion, kind] of PRUNED_KINDS) {
    for (const obj of await listKind(kube, apiVersion, kind, selector)) {
      const labels = obj.metadata?.labels || {}
      if (labels['install.operator.istio.io/owning-resource-not-pruned'] === 'true') continue
      const comp = COMPONENTS.find((c) => Object.entries(ownerLabels(iop, c)).every(([k, v]) => labels[k] === v))
      if (!comp || keep.get(comp)?.has(`${kind}:${obj.metadata.namespace || ''}:${obj.metadata.name}`)) continue
      const gone = await kube.remove(apiVersion, kind, obj.metadata.namespace || '', obj.metadata.name)
      stdout.write(
        gone
          ? removedLine(obj)
          : `object: ${gvkString(apiVersion, kind)}/${obj.metadata.name}.${obj.metadata.namespace || ''} is not being deleted because it no longer exists\n`
      )
    }
  }
}

/**
 * applyFlagAliases: --revision is --set revision=<r> (unless empty or "default").
 * @param {string[]} set @param {string} manifests @param {string} revision
 */
function flagAliases(set, manifests, revision) {
  const out = [...set]
  if (manifests) out.push(`installPackagePath=${manifests}`)
  if (revision && revision !== 'default') out.push(`revision=${revision}`)
  return out
}

/**
 * The upgrade/downgrade warning (detectIstioVersionDiff), from the istiod Deployment's version label.
 * @param {Kube} kube @param {string} ns @param {string} rev @param {NodeJS.WritableStream} stderr
 */
async function versionDiffWarning(kube, ns, rev, stderr) {
  const items = await kube
    .list(collectionPath('apps/v1', 'Deployment', ns), { labelSelector: 'app=istiod' })
    .catch(() => undefined)
  const tags = (items || [])
    .filter((d) => (d.metadata.labels?.['istio.io/rev'] || 'default') === (rev || 'default'))
    .map((d) => d.metadata.labels?.['operator.istio.io/version'])
    .filter(Boolean)
    .sort()
  const installed = tags[tags.length - 1]
  if (!installed || installed === CLIENT_VERSION) return
  const check = "         Before upgrading, you may wish to use 'istioctl x precheck' to check for upgrade warnings.\n"
  const overwrite = rev
    ? ''
    : '         Running this command will overwrite it; use revisions to upgrade alongside the existing version.\n'
  const verb = installed < CLIENT_VERSION ? 'upgraded' : 'downgraded'
  stderr.write(`WARNING: Istio is being ${verb} from ${installed} to ${CLIENT_VERSION}.\n${overwrite}${check}`)
}

/**
 * @param {Record<string, any>} f parsed flags
 * @param {Io} io
 */
export async function runInstall(f, io) {
  if (f.__changed.has('revision') && !isDns1123Label(f.revision))
    throw new CliError(`invalid revision specified: ${f.revision}`)
  const kube = Kube.fromFlags(f)
  try {
    await kube.serverVersion()
  } catch (err) {
    throw asCliError(err, 'check minimum supported Kubernetes version: error getting Kubernetes version: ')
  }

  const inputs = readInputs(f.filename || [], readAllStdin)
  const iop = mergeInputs(inputs, flagAliases(f.set || [], f.manifests, f.revision), CLIENT_VERSION)
  if (!f.force) validateIop(iop)
  const ns = getPath(iop, 'metadata.namespace') || 'istio-system'
  const rev = getPath(iop, 'spec.values.revision') || ''
  const profile = getPath(iop, 'spec.profile') || 'default'

  await versionDiffWarning(kube, ns, rev, io.stderr)
  if (!f['dry-run'] && !f['skip-confirmation']) {
    if (
      !confirm(
        `This will install the Istio ${CLIENT_VERSION} profile "${profile}" into the cluster. Proceed? (y/N)`,
        io.stdout
      )
    ) {
      io.stderr.write('Cancelled.\n')
      throw new SilentExit(1)
    }
  }
  await behave(kube, 'install')
  if (f['dry-run']) return

  try {
    await ensureNamespace(kube, ns, getPath(iop, 'spec.values.global.network'))
    // A remote runs no istiod, so nothing of it reads cacerts (render-remote.js).
    const rootCert = isRemoteProfile(getPath(iop, 'spec.values')) ? '' : await currentRootCert(kube, ns, io.stderr)
    const rendered = renderManifests(iop, { version: CLIENT_VERSION, rootCert })
    const progress = new ProgressLog(io.stderr)
    const installing = installComponents(rendered, async (component, objects) => {
      progress.processing(component)
      for (const obj of objects) {
        obj.metadata.labels = { ...obj.metadata.labels, ...ownerLabels(iop, component) }
        if (component === 'Pilot' && obj.kind === 'Deployment') await pinIstiodRoot(kube, obj)
        try {
          await kube.serverSideApply(obj, FIELD_MANAGER)
        } catch (err) {
          if (!(err instanceof KubeError)) throw err
          const msg = `failed to update resource with server-side apply for obj ${obj.kind}/${obj.metadata.namespace || ''}/${obj.metadata.name}: ${err.message}`
          progress.failed(component, msg)
          throw new CliError(msg)
        }
      }
      try {
        await waitForResources(kube, objects, f['readiness-timeout'], (waiting) =>
          progress.processing(component, waiting)
        )
      } catch (err) {
        if (err instanceof CliError) progress.failed(component, err.message)
        throw err
      }
      progress.finished(component)
    })
    await installing.catch((err) => {
      throw err instanceof CliError ? new CliError(`failed to install manifests: ${err.message}`) : err
    })
    progress.pruning()
    try {
      await prune(kube, iop, rendered, io.stdout)
    } catch (err) {
      throw asCliError(err, 'failed to install manifests: pruning: ')
    }
    progress.complete()
    if (profile === 'ambient')
      io.stderr.write('The ambient profile has been installed successfully, enjoy Istio without sidecars!\n')
  } catch (err) {
    throw asCliError(err, 'failed to install manifests: ')
  }
}

/**
 * The simulator's per-operation hook: sleep delayMs, then fail with the configured message; returns its answer.
 * @param {Kube} kube @param {string} op
 * @returns {Promise<Record<string, any> | undefined>} undefined when the hook could not be asked
 */
export async function behave(kube, op) {
  let b
  try {
    b = await kube.behaviour(op)
  } catch (err) {
    // Unreachable or refusing us: skip the hook, so the command's first real request fails with the
    // message the real istioctl would print (naming a real API path, not /sim/…).
    if (err instanceof KubeError && (err.network || err.status === 401 || err.status === 403)) return
    throw asCliError(err)
  }
  if (b.delayMs > 0) await sleep(b.delayMs)
  if (typeof b.fail === 'string' && b.fail) throw new CliError(b.fail)
  return b
}
