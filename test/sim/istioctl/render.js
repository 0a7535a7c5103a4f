// What the Istio charts render for a merged IstioOperator, reduced to the objects that matter to a
// multi-cluster install: CRDs (Base); istiod, its config maps, webhooks and RBAC (Pilot); gateways.
// Owner labels (operator.istio.io/*) are added later by install.js, as istioctl does after Helm.
import * as yaml from 'js-yaml'
import { clone, getPath, mergeFrom, releaseHub, splitPath } from './iop.js'
import { CRD_DEFINITIONS } from './crds.js'
import { isRemoteProfile, renderRemotePilot } from './render-remote.js'

/** @param {any} v @returns {v is Record<string, any>} */
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

/** @typedef {{ name: string, spec: string, def: boolean, multi: boolean, alt?: string }} Component */
/** @typedef {ReturnType<typeof ctxOf>} RenderContext what the charts read from the merged IstioOperator */
/** @typedef {Record<string, any>} Spec one enabled component's spec (a gateway's, say), with its namespace */

/**
 * The component table (operator/pkg/component): user-facing name, spec key, default on, list?
 * @type {Component[]}
 */
export const COMPONENTS = [
  { name: 'Base', spec: 'base', def: true, multi: false },
  { name: 'Pilot', spec: 'pilot', def: true, multi: false },
  {
    name: 'IngressGateways',
    spec: 'ingressGateways',
    def: true,
    multi: true,
    alt: 'spec.values.gateways.istio-ingressgateway.enabled'
  },
  {
    name: 'EgressGateways',
    spec: 'egressGateways',
    def: false,
    multi: true,
    alt: 'spec.values.gateways.istio-egressgateway.enabled'
  },
  { name: 'Cni', spec: 'cni', def: false, multi: false },
  { name: 'Ztunnel', spec: 'ztunnel', def: false, multi: false }
]

/**
 * component.Get: the enabled specs of one component.
 * @param {any} iop @param {Component} comp
 * @returns {Spec[]}
 */
export function componentSpecs(iop, comp) {
  const defaultNs = getPath(iop, 'metadata.namespace') || ''
  const altEnabled = comp.alt ? getPath(iop, comp.alt) === true : false
  const withNs = (/** @type {Spec} */ s) => ({ ...s, namespace: s.namespace || defaultNs || 'istio-system' })
  const raw = getPath(iop, `spec.components.${comp.spec}`)
  if (raw === undefined || raw === null) return comp.def || altEnabled ? [withNs({})] : []
  if (comp.multi) {
    return (Array.isArray(raw) ? raw : []).filter((s) => isMap(s) && (s.enabled !== false || altEnabled)).map(withNs)
  }
  if (!isMap(raw)) return []
  return raw.enabled !== false || altEnabled ? [withNs(raw)] : []
}

/** @param {any} iop @param {string} version */
function ctxOf(iop, version) {
  const values = isMap(iop.spec?.values) ? iop.spec.values : {}
  const global = isMap(values.global) ? values.global : {}
  const rev = values.revision || ''
  return {
    version,
    values,
    global,
    rev,
    revLabel: rev || 'default',
    suffix: rev ? `-${rev}` : '',
    ns: iop.metadata?.namespace || 'istio-system',
    // spec.hub reaches the charts as values.global.hub (translateIstioOperatorToHelm); user values win over it.
    hub: global.hub || releaseHub(version),
    tag: String(global.tag ?? version),
    clusterName: global.multiCluster?.clusterName || '',
    network: global.network || '',
    meshID: global.meshID || '',
    trustDomain: values.meshConfig?.trustDomain || 'cluster.local'
  }
}

// "istio.labels" of the charts (zzz_profile.yaml @1.30.3): Helm's Release.Service and Release.Name ("istio", helm.go),
// and the chart's appVersion, which istio/release-builder sets to the release. helm.sh/chart is modelled on the gateways.
export const istioLabels = (/** @type {{ version: string }} */ c) => ({
  'app.kubernetes.io/managed-by': 'Helm',
  'app.kubernetes.io/instance': 'istio',
  'app.kubernetes.io/part-of': 'istio',
  'app.kubernetes.io/version': c.version
})
// The charts label their main objects "owning-resource: unknown"; istioctl overrides it for a named IOP.
export const UNKNOWN_OWNER = { 'install.operator.istio.io/owning-resource': 'unknown' }

// --- k8s overrides (postProcess) ---

/** @param {any[]} base @param {any[] | undefined} extra */
function mergeEnv(base, extra) {
  const out = [...base]
  for (const e of extra || []) {
    if (!e) continue
    const i = out.findIndex((x) => x.name === e.name)
    if (i >= 0) out[i] = e
    else out.push(e)
  }
  return out
}

/** @param {any} dep @param {any} k8s */
function applyK8sToDeployment(dep, k8s) {
  if (!isMap(k8s)) return dep
  const pod = dep.spec.template
  const container = pod.spec.containers[0]
  if (k8s.replicaCount) dep.spec.replicas = k8s.replicaCount
  if (k8s.env) container.env = mergeEnv(container.env || [], k8s.env)
  if (k8s.resources) container.resources = k8s.resources
  if (k8s.readinessProbe) container.readinessProbe = k8s.readinessProbe
  if (k8s.imagePullPolicy) container.imagePullPolicy = k8s.imagePullPolicy
  if (k8s.volumeMounts) container.volumeMounts = [...(container.volumeMounts || []), ...k8s.volumeMounts]
  if (k8s.podAnnotations) pod.metadata.annotations = { ...(pod.metadata.annotations || {}), ...k8s.podAnnotations }
  for (const key of ['nodeSelector', 'affinity', 'tolerations', 'securityContext', 'priorityClassName']) {
    if (k8s[key] !== undefined) pod.spec[key] = k8s[key]
  }
  if (k8s.volumes) pod.spec.volumes = [...(pod.spec.volumes || []), ...k8s.volumes]
  if (k8s.strategy) dep.spec.strategy = k8s.strategy
  return dep
}

/**
 * Overlays: `path` like spec.template.spec.containers.[name:discovery].args.[0], value set there.
 * @param {any[]} objects @param {any[] | undefined} overlays
 */
function applyOverlays(objects, overlays) {
  for (const ov of overlays || []) {
    const target = objects.find(
      (o) => o.kind === ov.kind && o.metadata.name === ov.name && (!ov.apiVersion || o.apiVersion === ov.apiVersion)
    )
    if (!target) continue
    for (const p of ov.patches || []) {
      const segs = splitPath(p.path || '')
      let cur = target
      for (let i = 0; i < segs.length; i++) {
        const seg = segs[i]
        const last = i === segs.length - 1
        /** @type {string | number} */
        let key = seg
        if (seg.startsWith('[')) {
          const inner = seg.slice(1, -1)
          if (!Array.isArray(cur)) break
          if (inner.includes(':')) {
            const [k, v] = [inner.slice(0, inner.indexOf(':')), inner.slice(inner.indexOf(':') + 1)]
            key = cur.findIndex((/** @type {any} */ e) => isMap(e) && String(e[k]) === v)
            if (key < 0) break
          } else key = Number(inner)
        }
        if (last) {
          if (p.value === null || p.value === undefined) {
            if (Array.isArray(cur)) cur.splice(/** @type {number} */ (key), 1)
            else delete cur[key]
          } else cur[key] = p.value
        } else {
          if (cur[key] === undefined) cur[key] = segs[i + 1].startsWith('[') ? [] : {}
          cur = cur[key]
        }
      }
    }
  }
}

/** @param {string} name @param {RenderContext} c @param {Record<string, string>} labels @param {any} k8s */
function hpa(name, c, labels, k8s) {
  const spec = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]
  }
  if (isMap(k8s?.hpaSpec)) mergeFrom(spec, k8s.hpaSpec)
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: c.ns, labels: { ...labels, ...UNKNOWN_OWNER, ...istioLabels(c) } },
    spec
  }
}

/** @param {string} name @param {string} ns @param {Record<string, string>} selector @param {Record<string, string>} labels @param {object} spec */
function pdb(name, ns, selector, labels, spec) {
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns, labels: { ...labels, ...UNKNOWN_OWNER } },
    spec: { minAvailable: 1, selector: { matchLabels: selector }, ...spec }
  }
}

// --- Base ---

/** @param {RenderContext} c */
function renderBase(c) {
  return CRD_DEFINITIONS.map((d) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${d.plural}.${d.group}`,
      labels: { app: 'istio-pilot', chart: 'istio', heritage: 'Tiller', release: 'istio', ...istioLabels(c) }
    },
    spec: {
      group: d.group,
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.kind.toLowerCase(),
        shortNames: d.shortNames,
        categories: ['istio-io', `${d.group.split('.')[0]}-istio-io`]
      },
      scope: 'Namespaced',
      versions: d.versions.map((v) => ({
        name: v,
        served: true,
        storage: v === d.storage,
        subresources: { status: {} },
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }
      }))
    }
  }))
}

// --- images ---

// istio-control/istio-discovery/templates/deployment.yaml (1.30.3): an image with a "/" is used as is, else
// `{{ .Values.pilot.hub | default .Values.global.hub }}/{{ .Values.pilot.image | default "pilot" }}:{{ tag }}`.
/** @param {RenderContext} c */
function pilotImage(c) {
  const pilot = isMap(c.values.pilot) ? c.values.pilot : {}
  const image = typeof pilot.image === 'string' && pilot.image ? pilot.image : 'pilot'
  if (image.includes('/')) return image
  return `${pilot.hub || c.hub}/${image}:${pilot.tag ?? c.tag}`
}

// gateways/istio-ingress/templates/deployment.yaml (1.30.3): `{{ .Values.global.hub }}/{{ .Values.global.proxy.image
// | default "proxyv2" }}:{{ $gateway.tag | default .Values.global.tag }}`, or global.proxy.image as is when it has a "/".
/** @param {RenderContext} c @param {any} gwValues */
function gatewayImage(c, gwValues) {
  const image = (isMap(c.global.proxy) && c.global.proxy.image) || 'proxyv2'
  if (image.includes('/')) return image
  return `${c.hub}/${image}:${gwValues.tag ?? c.tag}`
}

// --- Pilot ---

/** @param {RenderContext} c */
function meshConfig(c) {
  const mesh = {
    defaultConfig: {
      discoveryAddress: `istiod${c.suffix}.${c.ns}.svc:15012`,
      ...(c.meshID ? { meshId: c.meshID } : {}),
      tracing: {}
    },
    defaultProviders: { metrics: ['prometheus'] },
    enablePrometheusMerge: true,
    rootNamespace: c.ns,
    trustDomain: 'cluster.local'
  }
  if (isMap(c.values.meshConfig)) mergeFrom(mesh, c.values.meshConfig)
  return mesh
}

// What the injector ConfigMap keeps of the values (istiod-injector-configmap.yaml), with chart defaults.
/** @param {RenderContext} c */
function injectorValues(c) {
  const global = mergeFrom(
    {
      hub: c.hub,
      tag: c.tag,
      istioNamespace: c.ns,
      meshID: '',
      network: '',
      multiCluster: { enabled: false, clusterName: '' },
      proxy: { clusterDomain: 'cluster.local', image: 'proxyv2' }
    },
    clone(c.global)
  )
  return {
    global,
    revision: c.rev,
    sidecarInjectorWebhook: clone(c.values.sidecarInjectorWebhook) || {},
    pilot: { cni: clone(c.values.pilot?.cni) || { enabled: false }, env: clone(c.values.pilot?.env) || {} },
    gateways: {}
  }
}

/** @param {string} name @param {{ ns: string }} c @param {Record<string, string>} labels @param {object[]} rules @param {string} saName */
function clusterRoleAndBinding(name, c, labels, rules, saName) {
  return [
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: saName, namespace: c.ns }]
    }
  ]
}

const READ = ['get', 'list', 'watch']
// Istio's config API groups, which istiod and istio-reader read all of (the charts' clusterrole.yaml).
const ISTIO_CONFIG_GROUPS = [
  'config.istio.io',
  'security.istio.io',
  'networking.istio.io',
  'authentication.istio.io',
  'rbac.istio.io',
  'telemetry.istio.io',
  'extensions.istio.io'
]
const READER_RULES = [
  { apiGroups: [...ISTIO_CONFIG_GROUPS], resources: ['*'], verbs: READ },
  {
    apiGroups: [''],
    resources: [
      'endpoints',
      'pods',
      'services',
      'nodes',
      'replicationcontrollers',
      'namespaces',
      'secrets',
      'configmaps'
    ],
    verbs: READ
  },
  { apiGroups: ['networking.istio.io'], resources: ['workloadentries'], verbs: READ },
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['gateways'], verbs: READ },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ },
  { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
  { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }
]

/**
 * ServiceAccount + ClusterRole/Binding `istio-reader-clusterrole[-rev]-<ns>` (also used by create-remote-secret).
 * @param {string} ns
 */
export function readerObjects(ns, rev = '', version = '') {
  const labels = {
    app: 'istio-reader',
    release: 'istiod',
    'app.kubernetes.io/name': 'istio-reader',
    ...(version ? istioLabels({ version }) : {})
  }
  const name = `istio-reader-clusterrole${rev ? `-${rev}` : ''}-${ns}`
  return [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'istio-reader-service-account', namespace: ns, labels }
    },
    ...clusterRoleAndBinding(name, { ns }, labels, READER_RULES, 'istio-reader-service-account')
  ]
}

/** @param {RenderContext} c @param {string} path */
function webhookClient(c, path) {
  return { service: { name: `istiod${c.suffix}`, namespace: c.ns, path, port: 443 } }
}

/**
 * deployment.yaml (1.30.3): `range $key, $val := .Values.env` (values.pilot.env, keys sorted as Go templates range a
 * map), then EXTERNAL_ISTIOD from global.externalIstiod unless pilot.env sets it (what the primary-remote page sets).
 * @param {RenderContext} c
 */
function pilotEnv(c) {
  const env = isMap(c.values.pilot?.env) ? c.values.pilot.env : {}
  const out = Object.keys(env)
    .sort()
    .map((k) => ({ name: k, value: String(env[k]) }))
  if (c.global.externalIstiod && env.EXTERNAL_ISTIOD === undefined)
    out.push({ name: 'EXTERNAL_ISTIOD', value: String(c.global.externalIstiod) })
  return out
}

/** @param {RenderContext} c @param {Spec} spec @param {string} rootCert */
function renderPilot(c, spec, rootCert) {
  const name = `istiod${c.suffix}`
  const labels = {
    app: 'istiod',
    'istio.io/rev': c.revLabel,
    release: 'istiod',
    'app.kubernetes.io/name': 'istiod',
    ...istioLabels(c)
  }
  /** @type {Record<string, string>} */
  const selector = c.rev ? { app: 'istiod', 'istio.io/rev': c.rev } : { istio: 'pilot' }
  const k8s = spec.k8s
  const clusterId = c.clusterName || 'Kubernetes'
  /** A sidecar-injector webhook of istiod's MutatingWebhookConfiguration. @param {string} name @param {object} namespaceSelector */
  const injectorWebhook = (name, namespaceSelector) => ({
    name,
    clientConfig: webhookClient(c, `/inject/cluster/${clusterId}/net/${c.network}`),
    sideEffects: 'None',
    admissionReviewVersions: ['v1beta1', 'v1'],
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    namespaceSelector
  })
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: c.ns,
      labels: { ...labels, ...UNKNOWN_OWNER, istio: 'pilot' },
      // Which root istiod signs with: the simulated stand-in for istiod reading /etc/cacerts at start.
      annotations: { 'sim.istio.io/root-cert-sha256': rootCert }
    },
    spec: {
      replicas: 1,
      strategy: { rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } },
      selector: { matchLabels: selector },
      template: {
        metadata: {
          labels: {
            app: 'istiod',
            'istio.io/rev': c.revLabel,
            ...UNKNOWN_OWNER,
            'sidecar.istio.io/inject': 'false',
            'operator.istio.io/component': 'Pilot',
            istio: 'pilot',
            'istio.io/dataplane-mode': 'none',
            ...istioLabels(c)
          },
          annotations: {
            'prometheus.io/port': '15014',
            'prometheus.io/scrape': 'true',
            'sidecar.istio.io/inject': 'false'
          }
        },
        spec: {
          serviceAccountName: name,
          containers: [
            {
              name: 'discovery',
              image: pilotImage(c),
              args: [
                'discovery',
                '--monitoringAddr=:15014',
                '--log_output_level=default:info',
                '--domain',
                'cluster.local',
                '--keepaliveMaxServerConnectionAge',
                '30m'
              ],
              ports: [
                { containerPort: 8080, protocol: 'TCP', name: 'http-debug' },
                { containerPort: 15010, protocol: 'TCP', name: 'grpc-xds' },
                { containerPort: 15012, protocol: 'TCP', name: 'tcp-xds' },
                { containerPort: 15017, protocol: 'TCP', name: 'https-webhooks' },
                { containerPort: 15014, protocol: 'TCP', name: 'http-monitoring' }
              ],
              env: [
                { name: 'REVISION', value: c.revLabel },
                { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
                { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
                {
                  name: 'POD_NAMESPACE',
                  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }
                },
                {
                  name: 'SERVICE_ACCOUNT',
                  valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.serviceAccountName' } }
                },
                { name: 'KUBECONFIG', value: '/var/run/secrets/remote/config' },
                { name: 'PILOT_TRACE_SAMPLING', value: '1' },
                { name: 'PILOT_ENABLE_ANALYSIS', value: 'false' },
                { name: 'CLUSTER_ID', value: clusterId },
                { name: 'PLATFORM', value: c.global.platform || '' },
                ...pilotEnv(c)
              ],
              readinessProbe: {
                httpGet: { path: '/ready', port: 8080 },
                initialDelaySeconds: 1,
                periodSeconds: 3,
                timeoutSeconds: 5
              },
              volumeMounts: [
                { name: 'local-certs', mountPath: '/var/run/secrets/istio-dns' },
                { name: 'cacerts', mountPath: '/etc/cacerts', readOnly: true },
                { name: 'istio-kubeconfig', mountPath: '/var/run/secrets/remote', readOnly: true }
              ]
            }
          ],
          volumes: [
            { name: 'local-certs', emptyDir: { medium: 'Memory' } },
            { name: 'cacerts', secret: { secretName: 'cacerts', optional: true } },
            { name: 'istio-kubeconfig', secret: { secretName: 'istio-kubeconfig', optional: true } }
          ]
        }
      }
    }
  }
  applyK8sToDeployment(deployment, k8s)

  /** @type {any[]} */
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: c.ns, labels } },
    ...readerObjects(c.ns, c.rev, c.version).map((o) => ({
      ...o,
      metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...istioLabels(c) } }
    })),
    ...clusterRoleAndBinding(
      `istiod-clusterrole${c.suffix}-${c.ns}`,
      c,
      labels,
      [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
          verbs: ['get', 'list', 'watch', 'update', 'patch']
        },
        { apiGroups: [...ISTIO_CONFIG_GROUPS], resources: ['*'], verbs: READ },
        {
          apiGroups: [''],
          resources: ['pods', 'nodes', 'services', 'namespaces', 'endpoints', 'secrets', 'configmaps'],
          verbs: READ
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] }
      ],
      name
    ),
    ...clusterRoleAndBinding(
      `istiod-gateway-controller${c.suffix}-${c.ns}`,
      c,
      labels,
      [
        {
          apiGroups: ['apps'],
          resources: ['deployments'],
          verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete']
        },
        {
          apiGroups: [''],
          resources: ['services', 'serviceaccounts'],
          verbs: ['get', 'watch', 'list', 'update', 'patch', 'create', 'delete']
        }
      ],
      name
    ),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: c.ns, labels },
      rules: [
        { apiGroups: ['networking.istio.io'], resources: ['gateways'], verbs: ['create'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'watch', 'list', 'update', 'delete'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['delete'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'update', 'patch', 'create'] }
      ]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace: c.ns, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: c.ns }]
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `istio${c.suffix}`,
        namespace: c.ns,
        labels: { 'istio.io/rev': c.revLabel, ...UNKNOWN_OWNER, release: 'istiod', ...istioLabels(c) }
      },
      data: { mesh: yaml.dump(meshConfig(c), { lineWidth: -1 }), meshNetworks: 'networks: {}' }
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `istio-sidecar-injector${c.suffix}`,
        namespace: c.ns,
        labels: { 'istio.io/rev': c.revLabel, ...UNKNOWN_OWNER, release: 'istiod', ...istioLabels(c) }
      },
      data: {
        values: JSON.stringify(injectorValues(c), null, 2),
        config:
          'defaultTemplates: [sidecar]\npolicy: enabled\nalwaysInjectSelector: []\nneverInjectSelector: []\ninjectedAnnotations: {}\ntemplate: "{{ Template_Version_And_Istio_Version_Mismatched_Check_Installation }}"\n'
      }
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: `istio-sidecar-injector${c.suffix}`,
        labels: { ...labels, ...UNKNOWN_OWNER, app: 'sidecar-injector' }
      },
      webhooks: [
        injectorWebhook('rev.namespace.sidecar-injector.istio.io', {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'In', values: [c.revLabel] },
            { key: 'istio-injection', operator: 'DoesNotExist' }
          ]
        }),
        ...(c.rev
          ? []
          : [
              injectorWebhook('namespace.sidecar-injector.istio.io', {
                matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }]
              })
            ])
      ]
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `istio-validator${c.suffix}-${c.ns}`, labels: { ...labels, app: 'istiod', istio: 'istiod' } },
      webhooks: [
        {
          name: 'rev.validation.istio.io',
          clientConfig: webhookClient(c, '/validate'),
          rules: [
            {
              operations: ['CREATE', 'UPDATE'],
              apiGroups: ['security.istio.io', 'networking.istio.io', 'telemetry.istio.io', 'extensions.istio.io'],
              apiVersions: ['*'],
              resources: ['*']
            }
          ],
          failurePolicy: 'Ignore',
          sideEffects: 'None',
          admissionReviewVersions: ['v1beta1', 'v1'],
          objectSelector: { matchExpressions: [{ key: 'istio.io/rev', operator: 'In', values: [c.revLabel] }] }
        }
      ]
    },
    deployment,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: c.ns, labels: { ...labels, istio: 'pilot' } },
      spec: {
        type: 'ClusterIP',
        selector: { app: 'istiod', istio: 'pilot', ...(c.rev ? { 'istio.io/rev': c.rev } : {}) },
        ports: [
          { port: 15010, name: 'grpc-xds', protocol: 'TCP' },
          { port: 15012, name: 'https-dns', protocol: 'TCP' },
          { port: 443, name: 'https-webhook', targetPort: 15017, protocol: 'TCP' },
          { port: 15014, name: 'http-monitoring', protocol: 'TCP' }
        ]
      }
    },
    hpa(name, c, labels, k8s)
  ]
  if (isMap(k8s?.podDisruptionBudget)) objects.push(pdb(name, c.ns, selector, labels, k8s.podDisruptionBudget))
  applyOverlays(objects, k8s?.overlays)
  return objects
}

// --- gateways (charts gateways/istio-ingress, gateways/istio-egress) ---

// The service ports both gateway charts have; the ingress gateway's status port comes first.
const HTTP_PORTS = [
  { name: 'http2', port: 80, targetPort: 8080, protocol: 'TCP' },
  { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }
]

/** @type {Record<string, { values: string, chart: string, labels: Record<string, string>, type: string, ports: object[] }>} */
const GATEWAY_DEFAULTS = {
  IngressGateways: {
    values: 'istio-ingressgateway',
    chart: 'istio-ingress',
    labels: { app: 'istio-ingressgateway', istio: 'ingressgateway' },
    type: 'LoadBalancer',
    ports: [{ name: 'status-port', port: 15021, targetPort: 15021, protocol: 'TCP' }, ...HTTP_PORTS]
  },
  EgressGateways: {
    values: 'istio-egressgateway',
    chart: 'istio-egress',
    labels: { app: 'istio-egressgateway', istio: 'egressgateway' },
    type: 'ClusterIP',
    ports: HTTP_PORTS
  }
}

/** @param {RenderContext} c @param {string} compName @param {Spec} spec */
function renderGateway(c, compName, spec) {
  const d = GATEWAY_DEFAULTS[compName]
  const gwValues = isMap(c.values.gateways?.[d.values]) ? c.values.gateways[d.values] : {}
  const name = spec.name || d.values
  const ns = spec.namespace || c.ns
  // Helm coalesces the chart's default labels with the component's `label` map.
  const gwLabels = {
    ...d.labels,
    ...(isMap(gwValues.labels) ? gwValues.labels : {}),
    ...(isMap(spec.label) ? spec.label : {})
  }
  const k8s = isMap(spec.k8s) ? spec.k8s : {}
  /** @type {any[]} */
  const ports = k8s.service?.ports || gwValues.ports || d.ports
  const injected = Boolean(gwValues.injectionTemplate)
  const chartLabels = {
    release: 'istio',
    'istio.io/rev': c.revLabel,
    ...UNKNOWN_OWNER,
    'operator.istio.io/component': compName,
    'app.kubernetes.io/name': d.values,
    ...istioLabels(c),
    'helm.sh/chart': `${d.chart}-${c.version}`
  }
  const env = [
    { name: 'JWT_POLICY', value: 'third-party-jwt' },
    { name: 'PILOT_CERT_PROVIDER', value: 'istiod' },
    { name: 'CA_ADDR', value: `istiod${c.suffix}.${c.ns}.svc:15012` },
    { name: 'ISTIO_META_WORKLOAD_NAME', value: name },
    { name: 'ISTIO_META_OWNER', value: `kubernetes://apis/apps/v1/namespaces/${ns}/deployments/${name}` },
    { name: 'ISTIO_META_MESH_ID', value: c.meshID || c.trustDomain },
    { name: 'TRUST_DOMAIN', value: c.trustDomain },
    { name: 'ISTIO_META_CLUSTER_ID', value: c.clusterName || 'Kubernetes' },
    ...(c.network ? [{ name: 'ISTIO_META_NETWORK', value: c.network }] : [])
  ]
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels: { ...gwLabels, ...chartLabels, 'istio.io/dataplane-mode': 'none' } },
    spec: {
      replicas: 1,
      selector: { matchLabels: gwLabels },
      strategy: { rollingUpdate: { maxSurge: '100%', maxUnavailable: '25%' } },
      template: {
        metadata: {
          labels: {
            ...gwLabels,
            'service.istio.io/canonical-name': name,
            'service.istio.io/canonical-revision': c.rev || 'latest',
            'istio.io/rev': c.revLabel,
            ...UNKNOWN_OWNER,
            'operator.istio.io/component': compName,
            'sidecar.istio.io/inject': injected ? 'true' : 'false',
            'istio.io/dataplane-mode': 'none'
          },
          annotations: {
            'istio.io/rev': c.revLabel,
            'prometheus.io/port': '15020',
            'prometheus.io/scrape': 'true',
            'prometheus.io/path': '/stats/prometheus',
            ...(injected
              ? { 'inject.istio.io/templates': gwValues.injectionTemplate }
              : { 'sidecar.istio.io/inject': 'false' })
          }
        },
        spec: {
          serviceAccountName: `${name}-service-account`,
          containers: [
            {
              name: 'istio-proxy',
              image: injected ? 'auto' : gatewayImage(c, gwValues),
              args: [
                'proxy',
                'router',
                '--domain',
                '$(POD_NAMESPACE).svc.cluster.local',
                '--proxyLogLevel=warning',
                '--log_output_level=default:info'
              ],
              ports: [
                ...ports.map((p) => ({ containerPort: Number(p.targetPort ?? p.port), protocol: p.protocol || 'TCP' })),
                { containerPort: 15090, protocol: 'TCP', name: 'http-envoy-prom' }
              ],
              env
            }
          ]
        }
      }
    }
  }
  applyK8sToDeployment(deployment, k8s)

  const serviceSpec = {
    type: gwValues.type || d.type,
    selector: gwLabels,
    ports: ports.map((p) => ({ ...p }))
  }
  if (isMap(k8s.service)) {
    const { ports: _ports, ...rest } = k8s.service
    Object.assign(serviceSpec, rest)
  }
  const annotations = {
    ...(isMap(gwValues.serviceAnnotations) ? gwValues.serviceAnnotations : {}),
    ...(k8s.serviceAnnotations || {})
  }
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: ns,
      labels: { ...gwLabels, ...chartLabels },
      ...(Object.keys(annotations).length ? { annotations } : {})
    },
    spec: serviceSpec
  }
  const saName = `${name}-service-account`
  /** @type {any[]} */
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: saName, namespace: ns, labels: { ...gwLabels, ...chartLabels } }
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: `${name}-sds`, namespace: ns, labels: { ...chartLabels } },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${name}-sds`, namespace: ns, labels: { ...chartLabels } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-sds` },
      subjects: [{ kind: 'ServiceAccount', name: saName }]
    },
    deployment,
    service,
    hpa(name, { ...c, ns }, { ...gwLabels, ...chartLabels }, k8s)
  ]
  if (isMap(k8s.podDisruptionBudget))
    objects.push(pdb(name, ns, gwLabels, { ...gwLabels, ...chartLabels }, k8s.podDisruptionBudget))
  applyOverlays(objects, k8s.overlays)
  return objects
}

// --- ambient ---

/** @param {RenderContext} c @param {string} compName @param {string} name @param {Spec} spec */
function renderDaemonSet(c, compName, name, spec) {
  const labels = { app: name, 'istio.io/rev': c.revLabel, ...istioLabels(c) }
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: spec.namespace || c.ns, labels },
    spec: {
      selector: { matchLabels: { 'k8s-app': name } },
      template: {
        metadata: {
          labels: { 'k8s-app': name, 'sidecar.istio.io/inject': 'false', 'istio.io/dataplane-mode': 'none' }
        },
        spec: {
          serviceAccountName: name,
          containers: [
            {
              name: compName === 'Cni' ? 'install-cni' : 'istio-proxy',
              // istio-cni / ztunnel charts: their own `hub` value, else global.hub (values.cni.hub, values.ztunnel.hub).
              image: `${c.values[compName === 'Cni' ? 'cni' : 'ztunnel']?.hub || c.hub}/${compName === 'Cni' ? 'install-cni' : 'ztunnel'}:${c.tag}`
            }
          ]
        }
      }
    }
  }
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: spec.namespace || c.ns, labels } },
    ds
  ]
}

/**
 * @param {any} iop merged, validated IstioOperator
 * @param {{ version: string, rootCert: string }} opts rootCert: what istiod's annotation records
 * @returns {{ component: string, objects: any[] }[]} in install order
 */
export function renderManifests(iop, { version, rootCert }) {
  const c = ctxOf(iop, version)
  const out = []
  for (const comp of COMPONENTS) {
    const objects = []
    for (const spec of componentSpecs(iop, comp)) {
      if (comp.name === 'Base') objects.push(...renderBase(c))
      else if (comp.name === 'Pilot' && isRemoteProfile(c.values))
        objects.push(...renderRemotePilot({ ...c, ns: spec.namespace || c.ns }))
      else if (comp.name === 'Pilot') objects.push(...renderPilot({ ...c, ns: spec.namespace || c.ns }, spec, rootCert))
      else if (comp.name === 'IngressGateways' || comp.name === 'EgressGateways')
        objects.push(...renderGateway(c, comp.name, spec))
      else if (comp.name === 'Cni') objects.push(...renderDaemonSet(c, comp.name, 'istio-cni-node', spec))
      else if (comp.name === 'Ztunnel') objects.push(...renderDaemonSet(c, comp.name, 'ztunnel', spec))
    }
    if (objects.length) out.push({ component: comp.name, objects })
  }
  return out
}
