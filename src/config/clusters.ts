import { InputError, closest, itemField } from '../errors.js'
import { Kubeconfig } from '../kube/kubeconfig.js'
import { ConfigSource, DNS1123_LABEL, LABEL_VALUE, requireUrl } from './inputs.js'
import { kubeconfigOf, sharedKubeconfig } from './kubeconfig-sources.js'
import { describeType, isMap, loadYamlInput } from './yaml.js'

export interface ClusterConfig {
  /** DNS-1123 label: Istio's clusterName, the remote secret's --name and the context name in the action's kubeconfig. */
  name: string
  network: string
  /** Context in the source kubeconfig this cluster came from (for messages). */
  sourceContext: string
  /** Where its credentials came from, for messages: `kubeconfig-env FOO`, `kubeconfig-file x`, `kubeconfig`, `$KUBECONFIG`. */
  source: string
  /** API server URL other clusters use to reach this one (create-remote-secret --server). */
  apiServer?: string
  /** primary: its own istiod; remote: served by the istiod of `primary` (topology.ts checks the pairs). */
  role: ClusterRole
  /** A remote's primary cluster (by name). */
  primary?: string
}

export const CLUSTER_ROLES = ['primary', 'remote'] as const
export type ClusterRole = (typeof CLUSTER_ROLES)[number]

export interface ParsedCluster {
  config: ClusterConfig
  kubeconfig: Kubeconfig
}

const CLUSTER_FIELDS = [
  'name',
  'network',
  'role',
  'primary',
  'context',
  'kubeconfig-env',
  'kubeconfig-file',
  'api-server'
] as const

/** The `clusters` input: at least two, each with a unique name, a network and one kubeconfig context. */
export function parseClusterList(src: ConfigSource): ParsedCluster[] {
  const text = src.input('clusters')
  if (text.trim() === '')
    throw new InputError('clusters', '', 'is required: a YAML list of clusters, each with "name" and "network"')
  const list = loadYamlInput('clusters', text)
  if (!Array.isArray(list))
    throw new InputError('clusters', '', `must be a YAML list of clusters, got ${describeType(list)}`)
  if (list.length < 2)
    throw new InputError('clusters', '', `needs at least two clusters for a multi-cluster mesh, got ${list.length}`)

  const shared = sharedKubeconfig(src)
  const seen = new Map<string, number>()
  return list.map((item, i) => {
    if (!isMap(item))
      throw new InputError(
        'clusters',
        itemField(i),
        `must be a map with "name" and "network", got ${describeType(item)}`
      )
    for (const key of Object.keys(item)) {
      if (!(CLUSTER_FIELDS as readonly string[]).includes(key)) {
        const hint = closest(key, CLUSTER_FIELDS)
        throw new InputError(
          'clusters',
          itemField(i, key),
          `unknown field${hint ? `; did you mean "${hint}"?` : ''} (known: ${CLUSTER_FIELDS.join(', ')})`
        )
      }
    }
    const name = stringField(item, i, 'name', true)!
    if (!DNS1123_LABEL.test(name) || name.length > 63)
      throw new InputError(
        'clusters',
        itemField(i, 'name'),
        `must be a DNS-1123 label (lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit), got ${JSON.stringify(name)}`
      )
    if (seen.has(name))
      throw new InputError(
        'clusters',
        itemField(i, 'name'),
        `"${name}" is already the name of item ${seen.get(name)! + 1}; names must be unique`
      )
    seen.set(name, i)

    const network = stringField(item, i, 'network', true)!
    if (!LABEL_VALUE.test(network) || network.length > 63)
      throw new InputError(
        'clusters',
        itemField(i, 'network'),
        `must be a Kubernetes label value (letters, digits, "-", "_", "."; at most 63), got ${JSON.stringify(network)}`
      )

    const apiServer = stringField(item, i, 'api-server', false)
    if (apiServer !== undefined) requireUrl('clusters', itemField(i, 'api-server'), apiServer, ['https:', 'http:'])

    const roleField = stringField(item, i, 'role', false) ?? 'primary'
    if (!(CLUSTER_ROLES as readonly string[]).includes(roleField))
      throw new InputError(
        'clusters',
        itemField(i, 'role'),
        `must be one of ${CLUSTER_ROLES.join(', ')}, got ${JSON.stringify(roleField)}`
      )
    const role = roleField as ClusterRole
    const primary = stringField(item, i, 'primary', false)

    const contextField = stringField(item, i, 'context', false)
    const context = contextField ?? name
    const from = {
      envName: stringField(item, i, 'kubeconfig-env', false),
      file: stringField(item, i, 'kubeconfig-file', false),
      contextField
    }
    const { source, kubeconfig } = kubeconfigOf(src, i, name, context, from, shared)
    return { config: { name, network, sourceContext: context, source, apiServer, role, primary }, kubeconfig }
  })
}

function stringField(item: Record<string, unknown>, i: number, field: string, required: boolean): string | undefined {
  const v = item[field]
  if (v === undefined || v === null) {
    if (required) throw new InputError('clusters', itemField(i, field), 'is required')
    return undefined
  }
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new InputError('clusters', itemField(i, field), `must be a string, got ${describeType(v)}`)
  const s = String(v).trim()
  if (s === '') throw new InputError('clusters', itemField(i, field), 'must not be empty')
  return s
}
