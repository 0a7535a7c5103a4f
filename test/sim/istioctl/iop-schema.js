// The IstioOperator schema (operator/pkg/apis/types.go) as data, and a checker that reports the first
// problem the way Go's encoding/json does with DisallowUnknownFields. Keys are visited in sorted order,
// because istioctl re-encodes the merged map as JSON (sorted keys) before decoding it.

/**
 * A node of the schema: its JSON kind `t` and the Go type that errors name.
 * @typedef {{ t: 'string' | 'bool' | 'int' | 'intOrString' | 'any', go?: string, plain?: boolean }} Scalar plain: errors name no struct field
 * @typedef {{ t: 'map' | 'list', of: SchemaNode, go: string }} Container of: the map's values, the list's items
 * @typedef {{ t: 'struct', name: string, go: string, fields: Record<string, SchemaNode>, strict: boolean, jsonpb?: boolean }} Struct
 *   strict: unknown fields are an error; jsonpb: decoded by jsonpb, whose type errors name no struct field
 * @typedef {Scalar | Container | Struct} SchemaNode
 */

/** @type {Scalar} */
const str = { t: 'string', go: 'string' }
/** @type {Scalar} */
const bool = { t: 'bool', go: 'bool' }
/** @type {Scalar} */
const int = { t: 'int', go: 'int32' }
/** @type {Scalar} */
const uint = { t: 'int', go: 'uint32' }
/** @type {Scalar} */
const any = { t: 'any' }
/** @type {Scalar} */
const intOrString = { t: 'intOrString', go: 'intstr.IntOrString' }
/** @type {Container} */
const strMap = { t: 'map', of: str, go: 'map[string]string' }
/** @param {SchemaNode} of @param {string} go @returns {Container} */
const list = (of, go) => ({ t: 'list', of, go })
/** @param {string} name @param {Record<string, SchemaNode>} fields @returns {Struct} */
const struct = (name, fields, strict = true) => ({ t: 'struct', name, go: `apis.${name}`, fields, strict })

/** @type {Struct} */
const objectMeta = {
  t: 'struct',
  name: 'ObjectMeta',
  go: 'v1.ObjectMeta',
  strict: true,
  fields: {
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: { t: 'int', go: 'int64' },
    creationTimestamp: any,
    deletionTimestamp: any,
    deletionGracePeriodSeconds: { t: 'int', go: 'int64' },
    labels: strMap,
    annotations: strMap,
    ownerReferences: any,
    finalizers: list(str, '[]string'),
    managedFields: any
  }
}

/** @type {Struct} */
const servicePort = {
  t: 'struct',
  name: 'ServicePort',
  go: 'v1.ServicePort',
  strict: true,
  fields: { name: str, protocol: str, appProtocol: str, port: int, targetPort: intOrString, nodePort: int }
}

/** @type {Struct} */
const serviceSpec = {
  t: 'struct',
  name: 'ServiceSpec',
  go: 'v1.ServiceSpec',
  strict: true,
  fields: {
    ports: list(servicePort, '[]v1.ServicePort'),
    selector: strMap,
    clusterIP: str,
    clusterIPs: list(str, '[]string'),
    type: str,
    externalIPs: list(str, '[]string'),
    sessionAffinity: str,
    loadBalancerIP: str,
    loadBalancerSourceRanges: list(str, '[]string'),
    externalName: str,
    externalTrafficPolicy: str,
    healthCheckNodePort: int,
    publishNotReadyAddresses: bool,
    sessionAffinityConfig: any,
    ipFamilies: list(str, '[]v1.IPFamily'),
    ipFamilyPolicy: str,
    allocateLoadBalancerNodePorts: bool,
    loadBalancerClass: str,
    internalTrafficPolicy: str,
    trafficDistribution: str
  }
}

/** @type {Struct} */
const envVar = {
  t: 'struct',
  name: 'EnvVar',
  go: 'v1.EnvVar',
  strict: true,
  fields: { name: str, value: str, valueFrom: any }
}

const overlay = struct('KubernetesOverlay', {
  apiVersion: str,
  kind: str,
  name: str,
  patches: list(struct('Patch', { path: str, value: any }), '[]apis.Patch')
})

const k8s = struct('KubernetesResources', {
  affinity: any,
  env: list(envVar, '[]*v1.EnvVar'),
  hpaSpec: any,
  imagePullPolicy: str,
  nodeSelector: strMap,
  podDisruptionBudget: any,
  podAnnotations: strMap,
  priorityClassName: str,
  readinessProbe: any,
  replicaCount: uint,
  resources: any,
  service: serviceSpec,
  strategy: any,
  tolerations: any,
  serviceAnnotations: strMap,
  securityContext: any,
  volumes: any,
  volumeMounts: any,
  overlays: list(overlay, '[]apis.KubernetesOverlay')
})

/** @type {Scalar} */
const boolValue = { t: 'bool', go: 'bool', plain: true } // BoolValue: errors name no struct field
const componentFields = { enabled: boolValue, namespace: str, hub: str, tag: any, k8s }
const component = struct('ComponentSpec', componentFields)
const gateway = struct('GatewayComponentSpec', { ...componentFields, name: str, label: strMap })

const components = struct('IstioComponentSpec', {
  base: struct('BaseComponentSpec', { enabled: boolValue, k8s }),
  pilot: component,
  cni: component,
  ztunnel: component,
  istiodRemote: component,
  ingressGateways: list(gateway, '[]apis.GatewayComponentSpec'),
  egressGateways: list(gateway, '[]apis.GatewayComponentSpec')
})

export const SCHEMA = struct('IstioOperator', {
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: struct('IstioOperatorSpec', {
    profile: str,
    installPackagePath: str,
    hub: str,
    tag: any,
    namespace: str,
    revision: str,
    compatibilityVersion: str,
    meshConfig: any,
    components,
    values: any,
    unvalidatedValues: any
  })
})

// apis.Values has its own UnmarshalJSON (operator/pkg/apis/value_types_json.go, 1.30.3): golang/protobuf's jsonpb,
// which decodes each scalar with a plain json.Unmarshal into a Go string/bool/…, so its type errors name no struct
// field ("json: cannot unmarshal number into Go value of type string"). Only the fields the action sets are
// modelled, and unknown keys are let through (the real decoder refuses them).
/** @param {string} name @param {Record<string, SchemaNode>} fields @returns {Struct} */
const message = (name, fields) => ({ ...struct(name, fields, false), jsonpb: true })
export const VALUES_CHECKS = message('Values', {
  global: message('GlobalConfig', {
    meshID: str,
    network: str,
    istioNamespace: str,
    hub: str,
    multiCluster: message('MultiClusterConfig', { clusterName: str, enabled: bool, includeEnvoyFilter: bool })
  }),
  revision: str,
  profile: str,
  defaultRevision: str
})

/** @param {unknown} v */
function jsonKind(v) {
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'boolean') return 'bool'
  return typeof v // 'string' | 'number' | 'object'
}

/** @param {unknown} value @param {{ go?: string, plain?: boolean }} node @param {string} structName @param {string[]} path */
function typeError(value, node, structName, path) {
  const type = node.go || 'interface {}'
  if (!structName || node.plain) return `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${type}`
  return `json: cannot unmarshal ${jsonKind(value)} into Go struct field ${structName}.${path.join('.')} of type ${type}`
}

/**
 * @param {any} value decoded JSON
 * @param {SchemaNode} node
 * @param {string} [structName]
 * @param {string[]} [path]
 * @returns {string|undefined} Go's error text for the first problem, or undefined when value fits node
 */
export function typeCheck(value, node, structName = '', path = []) {
  if (value === null || value === undefined || node.t === 'any') return undefined
  switch (node.t) {
    case 'string':
      return typeof value === 'string' ? undefined : typeError(value, node, structName, path)
    case 'bool':
      return typeof value === 'boolean' ? undefined : typeError(value, node, structName, path)
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : typeError(value, node, structName, path)
    case 'intOrString':
      return typeof value === 'string' || Number.isInteger(value) ? undefined : typeError(value, node, structName, path)
    case 'map': {
      if (jsonKind(value) !== 'object') return typeError(value, node, structName, path)
      for (const k of Object.keys(value).sort()) {
        const err = typeCheck(value[k], node.of, structName, path)
        if (err) return err
      }
      return undefined
    }
    case 'list': {
      if (!Array.isArray(value)) return typeError(value, node, structName, path)
      for (const item of value) {
        const err = typeCheck(item, node.of, structName, path)
        if (err) return err
      }
      return undefined
    }
    case 'struct': {
      if (jsonKind(value) !== 'object') return typeError(value, node, structName, path)
      for (const k of Object.keys(value).sort()) {
        const field = node.fields[k]
        if (!field) {
          if (node.strict) return `json: unknown field "${k}"`
          continue
        }
        const err = typeCheck(value[k], field, node.jsonpb ? '' : node.name, [...path, k])
        if (err) return err
      }
      return undefined
    }
    default:
      return undefined
  }
}
