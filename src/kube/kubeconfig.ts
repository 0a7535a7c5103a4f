import * as path from 'node:path'
import * as yaml from 'js-yaml'

/** The parts of a kubeconfig the action reads; everything else in an entry is kept verbatim. */
export type Entry = Record<string, unknown>
export interface Kubeconfig {
  apiVersion: 'v1'
  kind: 'Config'
  clusters: { name: string; cluster: Entry }[]
  users: { name: string; user: Entry }[]
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[]
  'current-context'?: string
}

/** Why a text is not a usable kubeconfig; the caller turns it into an InputError with its position. */
export class KubeconfigProblem extends Error {}

const BASE64 = /^[A-Za-z0-9+/=\s_-]+$/

/** A kubeconfig given as raw YAML or as base64 of it (as users paste secrets), possibly several documents. */
export function decodeKubeconfigText(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') throw new KubeconfigProblem('is empty')
  if (trimmed.length > 1024 * 1024)
    throw new KubeconfigProblem(`is ${trimmed.length} bytes; a kubeconfig over 1 MiB is not plausible`)
  const looksYaml =
    /(^|\n)\s*(apiVersion|kind|clusters|contexts|users|current-context)\s*:/.test(trimmed) || trimmed.startsWith('{')
  if (looksYaml) return trimmed
  if (!BASE64.test(trimmed)) throw new KubeconfigProblem('is neither kubeconfig YAML nor base64')
  const decoded = Buffer.from(trimmed.replace(/\s+/g, ''), /[-_]/.test(trimmed) ? 'base64url' : 'base64').toString(
    'utf8'
  )
  if (!/(^|\n)\s*(apiVersion|kind|clusters|contexts|users)\s*:/.test(decoded) && !decoded.trim().startsWith('{'))
    throw new KubeconfigProblem('is base64 but does not decode to a kubeconfig')
  return decoded
}

/** Parses one or more kubeconfig documents (each a Kubeconfig, in order). */
export function parseKubeconfigs(text: string, baseDir?: string): Kubeconfig[] {
  let docs: unknown[]
  try {
    docs = yaml.loadAll(decodeKubeconfigText(text), null, { schema: yaml.JSON_SCHEMA }).filter((d) => d != null)
  } catch (e) {
    if (e instanceof KubeconfigProblem) throw e
    throw new KubeconfigProblem(`is not valid YAML (${firstLine(e)})`)
  }
  if (docs.length === 0) throw new KubeconfigProblem('is empty')
  return docs.map((d, i) => asKubeconfig(d, docs.length > 1 ? i : undefined, baseDir))
}

/** Merges as kubectl merges $KUBECONFIG: the first entry of a name wins. */
export function mergeKubeconfigs(configs: Kubeconfig[]): Kubeconfig {
  const merged: Kubeconfig = { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }
  for (const kc of configs) {
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      const list = merged[key] as { name: string }[]
      for (const item of kc[key]) if (!list.some((x) => x.name === item.name)) list.push(item)
    }
    merged['current-context'] ??= kc['current-context']
  }
  return merged
}

function asKubeconfig(doc: unknown, docIndex: number | undefined, baseDir?: string): Kubeconfig {
  const where = docIndex === undefined ? '' : ` (document ${docIndex + 1})`
  if (!isMap(doc))
    throw new KubeconfigProblem(`is not a kubeconfig${where}: expected a map with clusters, users and contexts`)
  if (doc.kind !== undefined && doc.kind !== 'Config')
    throw new KubeconfigProblem(`is not a kubeconfig${where}: kind is ${JSON.stringify(doc.kind)}, expected "Config"`)
  if (!('clusters' in doc) && !('contexts' in doc) && !('users' in doc))
    throw new KubeconfigProblem(`is not a kubeconfig${where}: it has no clusters, users or contexts`)
  const list = (key: string, inner: string) => {
    const value = doc[key] ?? []
    if (!Array.isArray(value)) throw new KubeconfigProblem(`is not a kubeconfig${where}: "${key}" must be a list`)
    return value.map((item, i) => {
      if (!isMap(item) || typeof item.name !== 'string' || !isMap(item[inner]))
        throw new KubeconfigProblem(`is not a kubeconfig${where}: ${key}[${i}] needs a "name" and a "${inner}" map`)
      return { name: item.name, [inner]: resolvePaths(item[inner], baseDir) }
    })
  }
  const contexts = list('contexts', 'context') as Kubeconfig['contexts']
  for (const [i, c] of contexts.entries())
    if (typeof c.context.cluster !== 'string' || typeof c.context.user !== 'string')
      throw new KubeconfigProblem(`is not a kubeconfig${where}: contexts[${i}] needs "cluster" and "user"`)
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: list('clusters', 'cluster') as Kubeconfig['clusters'],
    users: list('users', 'user') as Kubeconfig['users'],
    contexts,
    'current-context': typeof doc['current-context'] === 'string' ? doc['current-context'] : undefined
  }
}

/** File references in a kubeconfig are relative to the file; the copy lives elsewhere, so make them absolute. */
const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile']
function resolvePaths(entry: Entry, baseDir?: string): Entry {
  if (!baseDir) return entry
  const out: Entry = { ...entry }
  for (const f of PATH_FIELDS) {
    const v = out[f]
    if (typeof v === 'string' && v !== '' && !path.isAbsolute(v)) out[f] = path.resolve(baseDir, v)
  }
  return out
}

/**
 * One cluster's context, renamed to `name` so that clusters whose kubeconfigs reuse names (kind-kind, admin) do not
 * collide. The context's cluster and user are taken from the document that defines the context: several pasted
 * kubeconfigs often each have a user `admin`, and merging first would hand every context the first one's credentials.
 */
export function extractContext(documents: Kubeconfig[], contextName: string, name: string): Kubeconfig {
  const home = documents.find((d) => d.contexts.some((c) => c.name === contextName))
  const merged = mergeKubeconfigs(documents)
  const kc = home ? mergeKubeconfigs([home, merged]) : merged
  const context = kc.contexts.find((c) => c.name === contextName)
  if (!context) {
    const known = merged.contexts.map((c) => c.name)
    throw new KubeconfigProblem(
      `has no context "${contextName}"` + (known.length ? ` (it has: ${known.join(', ')})` : ' (it has no contexts)')
    )
  }
  const cluster = kc.clusters.find((c) => c.name === context.context.cluster)
  const user = kc.users.find((u) => u.name === context.context.user)
  if (!cluster)
    throw new KubeconfigProblem(
      `context "${contextName}" refers to cluster "${context.context.cluster}", which it does not define`
    )
  if (!user)
    throw new KubeconfigProblem(
      `context "${contextName}" refers to user "${context.context.user}", which it does not define`
    )
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: cluster.cluster }],
    users: [{ name, user: user.user }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name
  }
}

/** Credential values to mask: anything that grants access if it leaks. */
export function credentialsIn(kc: Kubeconfig): string[] {
  const found: string[] = []
  for (const { user } of kc.users) {
    for (const key of ['token', 'password', 'client-key-data']) if (typeof user[key] === 'string') found.push(user[key])
    const provider = user['auth-provider']
    if (isMap(provider) && isMap(provider.config))
      for (const key of ['access-token', 'refresh-token', 'id-token', 'client-secret'])
        if (typeof provider.config[key] === 'string') found.push(provider.config[key])
  }
  // client-key-data is base64: the decoded PEM is just as secret, and so is each of its lines.
  for (const v of [...found])
    if (/^[A-Za-z0-9+/=]+$/.test(v) && v.length > 40) {
      const pem = Buffer.from(v, 'base64').toString('utf8')
      if (pem.includes('PRIVATE KEY')) found.push(...pemBodyLines(pem))
    }
  return found.filter((v) => v.length >= 4)
}

export function pemBodyLines(pem: string): string[] {
  return pem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 16 && !l.startsWith('-----'))
}

export function serializeKubeconfig(kc: Kubeconfig): string {
  return yaml.dump(kc, { noRefs: true, lineWidth: -1 })
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0]
}
