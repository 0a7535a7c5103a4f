import {
  CACERTS_SECRET,
  CLUSTER_ANNOTATION,
  CONTROL_PLANE_CLUSTERS_ANNOTATION,
  EASTWEST_GATEWAY,
  ISTIOD_APP,
  ISTIO_NAMESPACE,
  MULTICLUSTER_LABEL,
  NETWORK_LABEL,
  OPERATOR_MANAGED_LABEL,
  OPERATOR_VERSION_LABEL,
  REMOTE_SECRET_PREFIX,
  REVISION_LABEL,
  SIDECAR_INJECTOR_CONFIGMAP,
  STORED_ROOT_SECRET
} from './istio-names.js'
import * as kubectl from './kube/kubectl.js'
import { retiredRegistryOf } from './retired-registries.js'
import { registerSecret } from './secrets.js'
import { ClusterTools, StepLog } from './tools.js'
import { CaBundle } from './trust/certs.js'

export interface Istiod {
  name: string
  revision: string
  version?: string
}

/** What a cluster carries of the mesh, read from its objects (never from a state file: every run sees the same truth). */
export interface ClusterState {
  namespaceExists: boolean
  network?: string
  /** A remote's istio-system names the cluster(s) whose istiod manages it (topology.istio.io/controlPlaneClusters). */
  controlPlaneClusters?: string
  /** `profile: remote` is installed: an `istiod[-<rev>]` Service without a selector (remote-istiod-service.yaml). */
  remoteProfile?: boolean
  istiods: Istiod[]
  /** meshID / clusterName / network istiod was installed with (istio-sidecar-injector's values). */
  values?: { meshID?: string; clusterName?: string; network?: string }
  gateway?: { address?: string; revision?: string }
  /** Remote secrets in this cluster: which cluster each gives access to. */
  remoteSecrets: { name: string; cluster: string }[]
  /** cacerts data, base64-decoded. */
  cacerts?: Record<string, string>
  storedRoot?: CaBundle
  /** Workloads in istio-system that run images from a retired registry (retired-registries.ts). */
  retiredImages: RetiredImage[]
  /** kind/name → resourceVersion of every object read (pods aside), to tell afterwards whether a run changed anything. */
  versions: Record<string, string>
}

export interface RetiredImage {
  /** The workload; `Pod` only for a pod the read found no Deployment or DaemonSet of. */
  kind: 'Deployment' | 'DaemonSet' | 'Pod'
  name: string
  image: string
  registry: string
  /** istioctl manages it (operator.istio.io/managed): install renders it again, from `hub`. */
  managed: boolean
  revision?: string
  /** Only its pods carry the image (the sidecar injector put it there): the first such pod. */
  injectedInto?: string
}

interface PodSpec {
  containers?: { image?: string }[]
  initContainers?: { image?: string }[]
}

interface K8sObject {
  kind: string
  metadata: {
    name: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    resourceVersion?: string
    ownerReferences?: { kind: string; name: string }[]
  }
  data?: Record<string, string>
  spec?: PodSpec & { template?: { spec?: PodSpec } }
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } }
}

const imagesOf = (spec: PodSpec | undefined): string[] =>
  [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].flatMap((c) => c.image ?? [])

/** What the read lists in istio-system besides the namespace itself. */
const ISTIO_OBJECTS = 'deployments,daemonsets,pods,services,configmaps,secrets'

/**
 * Reads istio-system's namespace and objects (pods too: injected images show only there) in one kubectl process: one
 * start and one discovery per cluster instead of two. kubectl cannot mix `namespace/istio-system` with whole types in
 * one `get` (its resource builder refuses "resource/name" next to a bare type), and listing istio-system's objects
 * answers the same for a missing namespace as for an empty one; so the read lists the cluster-scoped namespaces too
 * (kubectl ignores `-n` for them) and keeps istio-system's. The output holds secrets: never logged.
 */
export async function readClusterState(tools: ClusterTools, cluster: string, log: StepLog): Promise<ClusterState> {
  const list = await kubectl.getJson(
    tools,
    cluster,
    { resource: `namespaces,${ISTIO_OBJECTS}`, namespace: ISTIO_NAMESPACE },
    log,
    { secretOutput: true }
  )
  return parseClusterRead(list)
}

/** Pure: the one read's output (every Namespace, then istio-system's objects) → ClusterState. */
export function parseClusterRead(listJson: string): ClusterState {
  const items = listJson.trim() ? ((JSON.parse(listJson) as { items?: K8sObject[] }).items ?? []) : []
  const ns = items.find((o) => o.kind === 'Namespace' && o.metadata.name === ISTIO_NAMESPACE)
  return fromObjects(
    ns,
    items.filter((o) => o.kind !== 'Namespace')
  )
}

/** Pure: a namespace read and a list read → ClusterState. Secret values it keeps are masked at once. */
export function parseClusterState(namespaceJson: string, listJson: string): ClusterState {
  return fromObjects(
    namespaceJson.trim() ? (JSON.parse(namespaceJson) as K8sObject) : undefined,
    listJson.trim() ? ((JSON.parse(listJson) as { items?: K8sObject[] }).items ?? []) : []
  )
}

function fromObjects(ns: K8sObject | undefined, items: K8sObject[]): ClusterState {
  const state: ClusterState = {
    namespaceExists: false,
    istiods: [],
    remoteSecrets: [],
    retiredImages: [],
    versions: {}
  }
  if (ns) {
    state.namespaceExists = true
    state.network = ns.metadata.labels?.[NETWORK_LABEL]
    state.controlPlaneClusters = ns.metadata.annotations?.[CONTROL_PLANE_CLUSTERS_ANNOTATION]
    state.versions[`Namespace/${ns.metadata.name}`] = ns.metadata.resourceVersion ?? ''
  }
  const injectorValues = new Map<string, Record<string, any>>()
  for (const o of items) {
    const { name, labels = {}, annotations = {} } = o.metadata
    // Pods come and go and update their status: not what "did this run change istio-system" is about.
    if (o.kind !== 'Pod') state.versions[`${o.kind}/${name}`] = o.metadata.resourceVersion ?? ''
    if (o.kind === 'Deployment' && labels.app === ISTIOD_APP)
      state.istiods.push({
        name,
        revision: labels[REVISION_LABEL] ?? 'default',
        version: labels[OPERATOR_VERSION_LABEL]
      })
    else if (
      o.kind === 'Service' &&
      (name === ISTIOD_APP || name.startsWith(`${ISTIOD_APP}-`)) &&
      !(o.spec as { selector?: object } | undefined)?.selector
    )
      state.remoteProfile = true
    else if (o.kind === 'Service' && name === EASTWEST_GATEWAY) {
      const ingress = o.status?.loadBalancer?.ingress?.[0]
      state.gateway = { address: ingress?.ip || ingress?.hostname || undefined, revision: labels[REVISION_LABEL] }
    } else if (
      o.kind === 'ConfigMap' &&
      (name === SIDECAR_INJECTOR_CONFIGMAP || name.startsWith(`${SIDECAR_INJECTOR_CONFIGMAP}-`)) &&
      o.data?.values
    ) {
      try {
        injectorValues.set(
          name === SIDECAR_INJECTOR_CONFIGMAP ? 'default' : name.slice(SIDECAR_INJECTOR_CONFIGMAP.length + 1),
          JSON.parse(o.data.values) as Record<string, any>
        )
      } catch {
        // values that are not JSON say nothing about the mesh
      }
    } else if (o.kind === 'Secret') {
      const data = Object.fromEntries(
        Object.entries(o.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])
      )
      if (labels[MULTICLUSTER_LABEL] === 'true')
        state.remoteSecrets.push({
          name,
          cluster:
            annotations[CLUSTER_ANNOTATION] ??
            (name.startsWith(REMOTE_SECRET_PREFIX) ? name.slice(REMOTE_SECRET_PREFIX.length) : name)
        })
      else if (name === CACERTS_SECRET) {
        for (const [k, v] of Object.entries(data)) if (/key/i.test(k)) registerSecret(v)
        state.cacerts = data
      } else if (name === STORED_ROOT_SECRET && data['root-cert.pem'] && data['root-key.pem']) {
        registerSecret(data['root-key.pem'])
        state.storedRoot = { certPem: data['root-cert.pem'], keyPem: data['root-key.pem'] }
      }
    }
  }
  state.retiredImages = retiredImages(items)
  const primary = state.istiods.find((i) => i.revision === 'default') ?? state.istiods[0]
  const values = primary && (injectorValues.get(primary.revision) ?? injectorValues.get('default'))
  if (values?.global)
    state.values = {
      meshID: values.global.meshID,
      clusterName: values.global.multiCluster?.clusterName,
      network: values.global.network
    }
  return state
}

/**
 * Images from retired registries, per workload: in a Deployment's or DaemonSet's template, or only in its pods (put
 * there by the injector, e.g. the east-west gateway's `image: auto`, or by an older template still rolling out).
 */
function retiredImages(items: K8sObject[]): RetiredImage[] {
  const workloads = new Map(
    items
      .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
      .map((o) => [`${o.kind}/${o.metadata.name}`, o])
  )
  const found = new Map<string, RetiredImage>()
  const note = (w: K8sObject | undefined, kind: RetiredImage['kind'], name: string, image: string, pod?: string) => {
    const registry = retiredRegistryOf(image)
    const key = `${kind}/${name} ${image}`
    if (!registry || found.has(key)) return
    const labels = w?.metadata.labels ?? {}
    found.set(key, {
      kind,
      name,
      image,
      registry,
      managed: labels[OPERATOR_MANAGED_LABEL] === 'Reconcile',
      revision: labels[REVISION_LABEL],
      ...(pod ? { injectedInto: pod } : {})
    })
  }
  for (const w of workloads.values())
    for (const image of imagesOf(w.spec?.template?.spec))
      note(w, w.kind as RetiredImage['kind'], w.metadata.name, image)
  for (const pod of items.filter((o) => o.kind === 'Pod')) {
    const owner = pod.metadata.ownerReferences?.[0]
    // A Deployment's pods belong to a ReplicaSet named <deployment>-<pod-template-hash>.
    const hash = pod.metadata.labels?.['pod-template-hash']
    const ownerKey =
      owner?.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)
        ? `Deployment/${owner.name.slice(0, -hash.length - 1)}`
        : owner && `${owner.kind}/${owner.name}`
    const w = ownerKey ? workloads.get(ownerKey) : undefined
    const template = new Set(imagesOf(w?.spec?.template?.spec))
    for (const image of imagesOf(pod.spec)) {
      if (template.has(image)) continue
      if (w) note(w, w.kind as RetiredImage['kind'], w.metadata.name, image, pod.metadata.name)
      else note(pod, 'Pod', pod.metadata.name, image)
    }
  }
  return [...found.values()]
}

/** Did anything in istio-system change between two reads of one cluster? */
export function changedObjects(before: ClusterState, after: ClusterState): string[] {
  const keys = new Set([...Object.keys(before.versions), ...Object.keys(after.versions)])
  return [...keys].filter((k) => before.versions[k] !== after.versions[k]).sort()
}
