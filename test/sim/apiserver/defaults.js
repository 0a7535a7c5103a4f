// Server-side defaulting and validation: what a real API server fills in or refuses on write, for the
// kinds whose defaults callers observe (Service cluster IPs and node ports, Secret stringData, ...).
import { errors } from './status.js'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
// Kinds whose names must be DNS-1123 labels (no dots), as in the real validation code.
const LABEL_NAMED = new Set(['Namespace', 'Service'])

/**
 * A Service with no type is treated as a LoadBalancer (istioctl always sets it; be tolerant).
 * @param {import('./index.js').KubeObject} svc
 * @returns {string}
 */
export function serviceType(svc) {
  return svc.spec?.type || 'LoadBalancer'
}

/**
 * Throws 422 Invalid like the real server for bad names and label keys/values.
 * @param {import('./resources.js').Resource} resource
 * @param {import('./index.js').KubeObject} obj
 */
export function validate(resource, obj) {
  /** @type {string} */
  const name = obj.metadata.name
  /** @param {string} field @param {unknown} value @param {string} why @returns {never} */
  const bad = (field, value, why) => {
    throw errors.invalid(resource, name, field, `Invalid value: ${JSON.stringify(value)}: ${why}`)
  }
  if (LABEL_NAMED.has(resource.kind)) {
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
      bad(
        'metadata.name',
        name,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
      )
    }
  } else if (resource.group === 'rbac.authorization.k8s.io') {
    // RBAC names are path segments: "system:auth-delegator" is fine.
    if (name === '.' || name === '..' || /[/%]/.test(name)) bad('metadata.name', name, `may not contain '/' or '%'`)
  } else {
    if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      bad(
        'metadata.name',
        name,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
      )
    }
  }
  for (const [k, v] of Object.entries(obj.metadata.labels || {})) {
    const [prefix, key] = k.includes('/') ? k.split(/\/(.*)/s) : ['', k]
    if ((prefix && !DNS1123_SUBDOMAIN.test(prefix)) || key.length > 63 || !LABEL_NAME.test(key)) {
      bad(
        'metadata.labels',
        k,
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
      )
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      bad(
        'metadata.labels',
        v,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
      )
    }
  }
  if (resource.kind === 'Secret') {
    for (const [k, v] of Object.entries(obj.data || {})) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v))
        bad(`data[${k}]`, '<value>', 'illegal base64 data')
    }
  }
}

/** Per-server allocators for Service cluster IPs and node ports. */
export class Defaulter {
  #nextIp = 10
  #nextNodePort = 30000 + Math.floor(Math.random() * 2000)

  /**
   * Fill in what the server defaults on create and update. `old` is the stored object on update:
   * allocated cluster IPs and node ports are kept, as the real server does.
   */
  /**
   * @param {string} kind
   * @param {import('./index.js').KubeObject} obj
   * @param {import('./index.js').KubeObject} [old]
   * @returns {import('./index.js').KubeObject}
   */
  apply(kind, obj, old) {
    switch (kind) {
      case 'Namespace':
        obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name }
        obj.spec = { finalizers: ['kubernetes'], ...obj.spec }
        obj.status = { phase: 'Active', ...obj.status }
        break
      case 'Secret':
        // stringData is write-only: merged into data (base64) and dropped.
        if (obj.stringData) {
          obj.data = { ...obj.data }
          for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64')
          delete obj.stringData
        }
        obj.type ||= 'Opaque'
        break
      case 'Service':
        this.#service(obj, old)
        break
      case 'Deployment':
        obj.spec = {
          replicas: 1,
          revisionHistoryLimit: 10,
          progressDeadlineSeconds: 600,
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
          ...obj.spec
        }
        obj.status ??= {}
        break
      case 'Pod':
        obj.status = { phase: 'Pending', ...obj.status }
        break
    }
    return obj
  }

  /** @param {import('./index.js').KubeObject} obj @param {import('./index.js').KubeObject} [old] */
  #service(obj, old) {
    const spec = (obj.spec ??= {})
    const oldSpec = old?.spec || {}
    if (spec.clusterIP !== 'None') {
      spec.clusterIP ||= oldSpec.clusterIP || `10.96.${Math.floor(this.#nextIp / 250)}.${(this.#nextIp++ % 250) + 1}`
      spec.clusterIPs = [spec.clusterIP]
    }
    const type = serviceType(obj)
    for (const p of spec.ports || []) {
      p.protocol ||= 'TCP'
      p.targetPort ??= p.port
      if (type === 'LoadBalancer' || type === 'NodePort') {
        const prev = (oldSpec.ports || []).find(
          (/** @type {any} */ q) => q.port === p.port && (q.protocol || 'TCP') === p.protocol
        )
        p.nodePort ||= prev?.nodePort || this.#nextNodePort++
      }
    }
    spec.sessionAffinity ||= 'None'
    spec.ipFamilies ||= ['IPv4']
    spec.ipFamilyPolicy ||= 'SingleStack'
    spec.internalTrafficPolicy ||= 'Cluster'
    if (type === 'LoadBalancer') {
      spec.externalTrafficPolicy ||= 'Cluster'
      spec.allocateLoadBalancerNodePorts ??= true
    }
    obj.status ??= { loadBalancer: {} }
  }
}
