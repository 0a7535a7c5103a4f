// The kinds this API server serves: a fixed built-in table plus whatever the stored
// CustomResourceDefinitions declare (so a CRD appears in discovery the moment it is stored).

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']

/** @param {string} apiVersion e.g. 'v1', 'apps/v1' */
export function parseApiVersion(apiVersion = '') {
  const i = apiVersion.indexOf('/')
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) }
}

/**
 * What discovery says about one kind in one group/version.
 * @typedef {object} Resource
 * @property {string} group
 * @property {string} version
 * @property {string} kind
 * @property {string} plural
 * @property {string} singular
 * @property {boolean} namespaced
 * @property {string[]} shortNames
 * @property {string[]} subresources
 * @property {string[]} verbs
 * @property {string[]} categories
 * @property {boolean} crd
 * @property {Array<Record<string, any>>} [printerColumns] a CRD version's additionalPrinterColumns
 */

/** @param {string} group @param {string} version */
export function apiVersionOf(group, version) {
  return group ? `${group}/${version}` : version
}

// Kinds whose metadata.generation the real server maintains (those with a spec users change).
const NO_GENERATION = new Set([
  'Namespace',
  'Secret',
  'ConfigMap',
  'Service',
  'ServiceAccount',
  'Pod',
  'Event',
  'Endpoints',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding'
])

/** @param {string} kind */
export function hasGeneration(kind) {
  return !NO_GENERATION.has(kind)
}

/**
 * @param {string} group @param {string} version @param {string} kind @param {string} plural @param {boolean} namespaced
 * @param {string[]} [shortNames] @param {string[]} [subresources] @param {Partial<Resource>} [extra]
 * @returns {Resource}
 */
function builtin(group, version, kind, plural, namespaced, shortNames = [], subresources = [], extra = {}) {
  return {
    group,
    version,
    kind,
    plural,
    namespaced,
    shortNames,
    subresources,
    singular: kind.toLowerCase(),
    verbs: VERBS,
    categories: [],
    crd: false,
    ...extra
  }
}

export const BUILTIN_RESOURCES = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, ['ns'], ['status', 'finalize'], {
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
  }),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'Service', 'services', true, ['svc'], ['status'], { categories: ['all'] }),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa'], ['token']),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  builtin('', 'v1', 'Pod', 'pods', true, ['po'], ['status', 'log'], { categories: ['all'] }),
  builtin('', 'v1', 'Event', 'events', true, ['ev']),
  builtin('', 'v1', 'Endpoints', 'endpoints', true, ['ep']),
  builtin('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], ['status', 'scale'], { categories: ['all'] }),
  builtin('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], ['status', 'scale'], { categories: ['all'] }),
  builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, ['ds'], ['status'], { categories: ['all'] }),
  builtin('apps', 'v1', 'StatefulSet', 'statefulsets', true, ['sts'], ['status', 'scale'], { categories: ['all'] }),
  builtin('discovery.k8s.io', 'v1', 'EndpointSlice', 'endpointslices', true),
  builtin('batch', 'v1', 'Job', 'jobs', true, [], ['status'], { categories: ['all'] }),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  builtin('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false),
  builtin(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false
  ),
  // GA in Kubernetes 1.30; the Gateway API's standard install carries one (safe-upgrades.gateway.networking.k8s.io).
  builtin('admissionregistration.k8s.io', 'v1', 'ValidatingAdmissionPolicy', 'validatingadmissionpolicies', false),
  builtin(
    'admissionregistration.k8s.io',
    'v1',
    'ValidatingAdmissionPolicyBinding',
    'validatingadmissionpolicybindings',
    false
  ),
  builtin(
    'apiextensions.k8s.io',
    'v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
    ['crd', 'crds'],
    ['status']
  ),
  builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], ['status']),
  builtin('autoscaling', 'v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', true, ['hpa'], ['status'], {
    categories: ['all']
  })
]

// Kubernetes version priority: v1 > v1beta1 > v1alpha1 (GA, then beta, then alpha; higher numbers first).
/** @param {string} v */
function versionRank(v) {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v)
  if (!m) return [3, 0, 0]
  const stage = m[2] === 'alpha' ? 2 : m[2] === 'beta' ? 1 : 0
  return [stage, -Number(m[1]), -Number(m[3] || 0)]
}
/** @param {string} a @param {string} b */
export function compareVersions(a, b) {
  const ra = versionRank(a)
  const rb = versionRank(b)
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i]
  return a.localeCompare(b)
}

/**
 * Resource descriptors for every served version of a stored CRD.
 * @param {import('./index.js').KubeObject} crd
 * @returns {Resource[]}
 */
export function crdResources(crd) {
  const spec = crd.spec || {}
  const names = spec.names || {}
  if (!spec.group || !names.plural || !names.kind) return []
  return (spec.versions || [])
    .filter((/** @type {any} */ v) => v.served !== false)
    .map((/** @type {any} */ v) => ({
      group: spec.group,
      version: v.name,
      kind: names.kind,
      plural: names.plural,
      singular: names.singular || names.kind.toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames || [],
      categories: names.categories || [],
      subresources: Object.keys(v.subresources || {}),
      verbs: VERBS,
      crd: true,
      printerColumns: v.additionalPrinterColumns || []
    }))
}

export class ResourceRegistry {
  /** @param {import('./store.js').Store} store */
  constructor(store) {
    this.store = store
  }

  all() {
    const crds = this.store.list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
    return [...BUILTIN_RESOURCES, ...crds.flatMap(crdResources)]
  }

  /** Groups in discovery order (core first, then built-ins, then CRD groups), versions preferred-first. */
  groups() {
    /** @type {Map<string, Set<string>>} */
    const byGroup = new Map()
    for (const r of this.all()) {
      if (!byGroup.has(r.group)) byGroup.set(r.group, new Set())
      byGroup.get(r.group)?.add(r.version)
    }
    return [...byGroup].map(([name, versions]) => ({ name, versions: [...versions].sort(compareVersions) }))
  }

  /** @param {string} group @param {string} version */
  inGroupVersion(group, version) {
    return this.all().filter((r) => r.group === group && r.version === version)
  }

  /** @param {string} group @param {string} version @param {string} plural */
  byPlural(group, version, plural) {
    return this.all().find((r) => r.group === group && r.version === version && r.plural === plural)
  }

  /** @param {string} group @param {string} version @param {string} kind */
  byKind(group, version, kind) {
    return this.all().find((r) => r.group === group && r.version === version && r.kind === kind)
  }

  /** Is kind namespaced? Used by the store's callers that only hold apiVersion + kind. */
  /** @param {string} apiVersion @param {string} kind */
  isNamespaced(apiVersion, kind) {
    const { group, version } = parseApiVersion(apiVersion)
    const r = this.byKind(group, version, kind) || this.all().find((x) => x.group === group && x.kind === kind)
    return r ? r.namespaced : true
  }
}
