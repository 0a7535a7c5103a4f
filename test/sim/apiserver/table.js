// meta.k8s.io/v1 Table responses: what `kubectl get` (no -o) asks for, so it prints the usual columns.

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {{ name: string, type: string, format: string, description: string, priority: number }} ColumnDefinition */
/** @typedef {[ColumnDefinition, (o: KubeObject) => unknown]} Column a definition and how to fill its cell */

export function wantsTable(accept = '') {
  return /as=Table/.test(accept)
}

// kubectl's short human duration: 45s, 12m, 5h, 3d, 2y.
/** @param {string | undefined} ts */
function age(ts) {
  if (!ts) return '<unknown>'
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000))
  if (s < 120) return `${s}s`
  if (s < 3600 * 2) return `${Math.floor(s / 60)}m`
  if (s < 86400 * 2) return `${Math.floor(s / 3600)}h`
  if (s < 86400 * 365 * 2) return `${Math.floor(s / 86400)}d`
  return `${Math.floor(s / (86400 * 365))}y`
}

/** @param {string} name @returns {ColumnDefinition} */
const col = (name, type = 'string', format = '') => ({ name, type, format, description: name, priority: 0 })
const nameCol = col('Name', 'string', 'name')
const ageCol = col('Age')
const created = (/** @type {KubeObject} */ o) => age(o.metadata.creationTimestamp)

/** @param {KubeObject} o */
function servicePorts(o) {
  /** @type {any[]} */
  const ports = o.spec?.ports || []
  if (!ports.length) return '<none>'
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol || 'TCP'}`).join(',')
}

/** @param {KubeObject} o */
function externalIp(o) {
  /** @type {any[]} */
  const ingress = o.status?.loadBalancer?.ingress || []
  const addrs = ingress.map((i) => i.ip || i.hostname).filter(Boolean)
  if (addrs.length) return addrs.join(',')
  const type = o.spec?.type || 'LoadBalancer'
  return type === 'LoadBalancer' ? '<pending>' : '<none>'
}

/** @param {KubeObject} o */
function podReady(o) {
  /** @type {any[]} */
  const statuses = o.status?.containerStatuses || []
  const total = o.spec?.containers?.length || statuses.length
  return `${statuses.filter((s) => s.ready).length}/${total}`
}

/** @type {Record<string, Column[]>} The built-in kinds' columns, as the real server's table convertors print them. */
const COLUMNS = {
  Namespace: [
    [nameCol, (o) => o.metadata.name],
    [col('Status'), (o) => o.status?.phase || 'Active'],
    [ageCol, created]
  ],
  Service: [
    [nameCol, (o) => o.metadata.name],
    [col('Type'), (o) => o.spec?.type || 'LoadBalancer'],
    [col('Cluster-IP'), (o) => o.spec?.clusterIP || '<none>'],
    [col('External-IP'), externalIp],
    [col('Port(s)'), servicePorts],
    [ageCol, created]
  ],
  Deployment: [
    [nameCol, (o) => o.metadata.name],
    [col('Ready'), (o) => `${o.status?.readyReplicas || 0}/${o.spec?.replicas ?? 1}`],
    [col('Up-to-date', 'integer'), (o) => o.status?.updatedReplicas || 0],
    [col('Available', 'integer'), (o) => o.status?.availableReplicas || 0],
    [ageCol, created]
  ],
  Pod: [
    [nameCol, (o) => o.metadata.name],
    [col('Ready'), podReady],
    [col('Status'), (o) => o.status?.phase || 'Pending'],
    [
      col('Restarts', 'integer'),
      (o) =>
        (o.status?.containerStatuses || []).reduce(
          (/** @type {number} */ n, /** @type {any} */ s) => n + (s.restartCount || 0),
          0
        )
    ],
    [ageCol, created]
  ],
  Secret: [
    [nameCol, (o) => o.metadata.name],
    [col('Type'), (o) => o.type || 'Opaque'],
    [col('Data', 'integer'), (o) => Object.keys(o.data || {}).length],
    [ageCol, created]
  ],
  ConfigMap: [
    [nameCol, (o) => o.metadata.name],
    [col('Data', 'integer'), (o) => Object.keys(o.data || {}).length + Object.keys(o.binaryData || {}).length],
    [ageCol, created]
  ],
  Event: [
    [col('Last Seen'), (o) => age(o.lastTimestamp || o.eventTime || o.metadata.creationTimestamp)],
    [col('Type'), (o) => o.type || ''],
    [col('Reason'), (o) => o.reason || ''],
    [col('Object'), (o) => `${(o.involvedObject?.kind || '').toLowerCase()}/${o.involvedObject?.name || ''}`],
    [col('Message'), (o) => o.message || '']
  ]
}

// Custom resources: Name, the CRD's additionalPrinterColumns (simple .a.b paths only), Age.
/**
 * @param {import('./resources.js').Resource} resource
 * @returns {Column[]}
 */
function crdColumns(resource) {
  /** @type {Column[]} */
  const extra = (resource.printerColumns || []).map((c) => [
    col(c.name, c.type === 'integer' ? 'integer' : 'string'),
    (o) => {
      let v = o
      for (const part of String(c.jsonPath || '')
        .split('.')
        .filter(Boolean))
        v = v?.[part]
      return v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : v
    }
  ])
  return [[nameCol, (o) => o.metadata.name], ...extra, [ageCol, created]]
}

/** @param {KubeObject} o @param {string} includeObject */
function rowObject(o, includeObject) {
  if (includeObject === 'None') return undefined
  if (includeObject === 'Object') return o
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }
}

/**
 * @param {import('./resources.js').Resource} resource
 * @param {KubeObject[]} objects
 * @param {{ resourceVersion?: string, includeObject?: string, withColumns?: boolean }} opts
 */
export function toTable(resource, objects, { resourceVersion, includeObject = 'Metadata', withColumns = true } = {}) {
  /** @type {Column[]} */
  const columns = resource.crd
    ? crdColumns(resource)
    : COLUMNS[resource.kind] || [
        [nameCol, (o) => o.metadata.name],
        [ageCol, created]
      ]
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: withColumns ? columns.map(([c]) => c) : [],
    rows: objects.map((o) => {
      /** @type {{ cells: unknown[], object?: KubeObject }} */
      const row = { cells: columns.map(([, cell]) => cell(o)) }
      const obj = rowObject(o, includeObject)
      if (obj) row.object = obj
      return row
    })
  }
}
