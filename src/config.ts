import * as os from 'node:os'
import * as path from 'node:path'
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { InputError, closest, itemField } from './errors.js'
import { parseDuration } from './duration.js'
import { VersionSpec, parseVersionSpec } from './istioctl/version.js'
import { Kubeconfig, KubeconfigProblem, credentialsIn, extractContext, mergeKubeconfigs, parseKubeconfigs, pemBodyLines } from './kube/kubeconfig.js'
import { describeType, isMap, loadYamlInput } from './yaml-input.js'

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
}

export type Mode = 'install' | 'plan' | 'uninstall'
export type CaMode = 'generate' | 'provided' | 'existing' | 'none'
export type VerifyMode = 'remote-clusters' | 'traffic' | 'none'

export interface Config {
  /** install converges the mesh; plan only reads and says what install would do; uninstall removes it. */
  mode: Mode
  clusters: ClusterConfig[]
  /** One kubeconfig with one context per cluster, named by the cluster. */
  kubeconfig: Kubeconfig
  /** Every credential value found in the kubeconfigs and CA inputs: masked before anything else happens. */
  secrets: string[]
  meshId: string
  istioVersion: VersionSpec
  downloadBaseUrl: string
  githubToken: string
  revision?: string
  operatorOverlay?: Record<string, unknown>
  gatewayServiceAnnotations: Record<string, string>
  gatewayTimeoutMs: number
  /** Where every Istio image comes from (spec.hub of both IstioOperators): a registry and path, no tag. */
  hub: string
  /** istioctl install --readiness-timeout: how long it waits for each component to be ready. */
  readinessTimeoutMs: number
  /** At most this many steps (each against one cluster) run at once; Infinity = all. */
  maxParallel: number
  exportKubeconfig: boolean
  /** Delete remote secrets of clusters no longer listed (otherwise only report them). */
  prune: boolean
  /** uninstall: keep istio-system. */
  keepNamespace: boolean
  /** Allow an upgrade across more than one minor version. */
  allowSkipMinor: boolean
  ca: { mode: CaMode; rootCert?: string; rootKey?: string; rotate: boolean }
  verify: { mode: VerifyMode; timeoutMs: number; keep: boolean; images: VerifyImages }
}

export interface VerifyImages {
  helloworldV1: string
  helloworldV2: string
  curl: string
}

/** Pinned defaults for the traffic check (the images of Istio's samples/helloworld and samples/curl). */
export const DEFAULT_IMAGES: VerifyImages = {
  helloworldV1: 'docker.io/istio/examples-helloworld-v1:1.0',
  helloworldV2: 'docker.io/istio/examples-helloworld-v2:1.0',
  curl: 'docker.io/curlimages/curl:8.16.0'
}

export const DEFAULT_DOWNLOAD_BASE_URL = 'https://github.com/istio/istio/releases/download'

/** Istio's images: 1.30.x would otherwise render registry.istio.io/release, retired in December 2026. */
export const DEFAULT_HUB = 'docker.io/istio'

/** Where the config reads from: inputs, environment and files. Injected so parsing is testable without a runner. */
export interface ConfigSource {
  input(name: string): string
  env: Record<string, string | undefined>
  readFile(file: string): string
}

const CLUSTER_FIELDS = ['name', 'network', 'context', 'kubeconfig-env', 'kubeconfig-file', 'api-server'] as const
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export function parseConfig(src: ConfigSource): Config {
  const clusters = parseClusterList(src)
  const secrets: string[] = []
  const kubeconfig = mergeKubeconfigs(clusters.map((c) => c.kubeconfig))
  secrets.push(...credentialsIn(kubeconfig))

  const meshId = src.input('mesh-id').trim() || 'mesh1'
  if (!LABEL_VALUE.test(meshId) || meshId.length > 63)
    throw new InputError('mesh-id', '', `must be a label value (letters, digits, "-", "_", "."; at most 63), got ${JSON.stringify(meshId)}`)

  const version = parseVersionSpec(src.input('istio-version'))
  if (typeof version === 'string') throw new InputError('istio-version', '', version)

  const downloadBaseUrl = (src.input('download-base-url').trim() || DEFAULT_DOWNLOAD_BASE_URL).replace(/\/+$/, '')
  requireUrl('download-base-url', '', downloadBaseUrl, ['http:', 'https:', 'file:'])

  const revision = src.input('revision').trim() || undefined
  if (revision !== undefined && (!DNS1123_LABEL.test(revision) || revision.length > 63))
    throw new InputError('revision', '', `must be a DNS-1123 label like "1-30-3" (lowercase letters, digits, "-"), got ${JSON.stringify(revision)}`)
  const readAs = revision === undefined ? undefined : istioctlReadsAs(revision)
  if (readAs)
    throw new InputError(
      'revision',
      '',
      `istioctl would read ${JSON.stringify(revision)} as a ${readAs} (it sets values.revision like a --set value), and install rejects a revision that is not a string; use e.g. "1-30-3"`
    )

  const ca = parseCa(src)
  if (ca.rootKey) secrets.push(ca.rootKey, ...pemBodyLines(ca.rootKey))

  return {
    mode: oneOf(src, 'mode', ['install', 'plan', 'uninstall'] as const, 'install'),
    clusters: clusters.map((c) => c.config),
    kubeconfig,
    secrets,
    meshId,
    istioVersion: version,
    downloadBaseUrl,
    // An unexpanded expression (local runs with @github/local-action pass the default literally) is no token.
    githubToken: src
      .input('github-token')
      .trim()
      .replace(/^\$\{\{.*\}\}$/, ''),
    revision,
    operatorOverlay: parseOperatorOverlay(src.input('operator-overlay')),
    gatewayServiceAnnotations: parseAnnotations(src.input('gateway-service-annotations')),
    gatewayTimeoutMs: durationInput(src, 'gateway-timeout', '5m'),
    hub: parseHub(src.input('hub')),
    readinessTimeoutMs: durationInput(src, 'readiness-timeout', '5m'),
    maxParallel: parseMaxParallel(src.input('max-parallel')),
    exportKubeconfig: booleanInput(src, 'export-kubeconfig', false),
    prune: booleanInput(src, 'prune', false),
    keepNamespace: booleanInput(src, 'keep-namespace', false),
    allowSkipMinor: booleanInput(src, 'allow-skip-minor', false),
    ca,
    verify: {
      mode: oneOf(src, 'verify', ['remote-clusters', 'traffic', 'none'] as const, 'remote-clusters'),
      timeoutMs: durationInput(src, 'verify-timeout', '3m'),
      keep: booleanInput(src, 'verify-keep', false),
      images: {
        helloworldV1: imageInput(src, 'verify-image-helloworld-v1', DEFAULT_IMAGES.helloworldV1),
        helloworldV2: imageInput(src, 'verify-image-helloworld-v2', DEFAULT_IMAGES.helloworldV2),
        curl: imageInput(src, 'verify-image-curl', DEFAULT_IMAGES.curl)
      }
    }
  }
}

interface ParsedCluster {
  config: ClusterConfig
  kubeconfig: Kubeconfig
}

function parseClusterList(src: ConfigSource): ParsedCluster[] {
  const text = src.input('clusters')
  if (text.trim() === '') throw new InputError('clusters', '', 'is required: a YAML list of clusters, each with "name" and "network"')
  const list = loadYamlInput('clusters', text)
  if (!Array.isArray(list)) throw new InputError('clusters', '', `must be a YAML list of clusters, got ${describeType(list)}`)
  if (list.length < 2) throw new InputError('clusters', '', `needs at least two clusters for a multi-cluster mesh, got ${list.length}`)

  const shared = lazySharedKubeconfig(src)
  const seen = new Map<string, number>()
  const networks = new Map<string, string>()
  return list.map((item, i) => {
    if (!isMap(item)) throw new InputError('clusters', itemField(i), `must be a map with "name" and "network", got ${describeType(item)}`)
    for (const key of Object.keys(item)) {
      if (!(CLUSTER_FIELDS as readonly string[]).includes(key)) {
        const hint = closest(key, CLUSTER_FIELDS)
        throw new InputError('clusters', itemField(i, key), `unknown field${hint ? `; did you mean "${hint}"?` : ''} (known: ${CLUSTER_FIELDS.join(', ')})`)
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
      throw new InputError('clusters', itemField(i, 'name'), `"${name}" is already the name of item ${seen.get(name)! + 1}; names must be unique`)
    seen.set(name, i)

    const network = stringField(item, i, 'network', true)!
    if (!LABEL_VALUE.test(network) || network.length > 63)
      throw new InputError(
        'clusters',
        itemField(i, 'network'),
        `must be a Kubernetes label value (letters, digits, "-", "_", "."; at most 63), got ${JSON.stringify(network)}`
      )
    if (!networks.has(network)) networks.set(network, name)

    const apiServer = stringField(item, i, 'api-server', false)
    if (apiServer !== undefined) requireUrl('clusters', itemField(i, 'api-server'), apiServer, ['https:', 'http:'])

    const context = stringField(item, i, 'context', false) ?? name
    const envName = stringField(item, i, 'kubeconfig-env', false)
    const file = stringField(item, i, 'kubeconfig-file', false)
    if (envName !== undefined && file !== undefined) throw new InputError('clusters', itemField(i), 'has both "kubeconfig-env" and "kubeconfig-file"; give one')

    let source: string
    let kubeconfig: Kubeconfig
    let documents: Kubeconfig[]
    const field = envName !== undefined ? 'kubeconfig-env' : file !== undefined ? 'kubeconfig-file' : undefined
    try {
      if (envName !== undefined) {
        if (!ENV_NAME.test(envName))
          throw new InputError('clusters', itemField(i, 'kubeconfig-env'), `must be an environment variable name, got ${JSON.stringify(envName)}`)
        const value = src.env[envName]
        if (value === undefined)
          throw new InputError('clusters', itemField(i, 'kubeconfig-env'), `environment variable ${envName} is not set (pass it with "env:" on the step)`)
        if (value.trim() === '')
          throw new InputError(
            'clusters',
            itemField(i, 'kubeconfig-env'),
            `environment variable ${envName} is empty (is the secret defined for this repository/environment?)`
          )
        source = `kubeconfig-env ${envName}`
        documents = parseKubeconfigs(value)
      } else if (file !== undefined) {
        const resolved = path.resolve(src.env.GITHUB_WORKSPACE ?? process.cwd(), file)
        source = `kubeconfig-file ${file}`
        documents = parseKubeconfigs(readFileFor(src, resolved, 'clusters', itemField(i, 'kubeconfig-file')), path.dirname(resolved))
      } else {
        const s = shared()
        source = s.source
        documents = s.documents
      }
      kubeconfig = extractContext(documents, context, name)
    } catch (e) {
      if (!(e instanceof KubeconfigProblem)) throw e
      const where = field ?? (stringField(item, i, 'context', false) !== undefined ? 'context' : undefined)
      const from = field ? `the kubeconfig` : `the ${shared().source === 'kubeconfig' ? '"kubeconfig" input' : shared().source}`
      throw new InputError('clusters', itemField(i, where), `${from} ${e.message}`)
    }
    return { config: { name, network, sourceContext: context, source, apiServer }, kubeconfig }
  })
}

/** The `kubeconfig` input, else $KUBECONFIG, else ~/.kube/config — read only when a cluster needs it. */
function lazySharedKubeconfig(src: ConfigSource): () => { source: string; documents: Kubeconfig[] } {
  let cached: { source: string; documents: Kubeconfig[] } | undefined
  return () => {
    if (cached) return cached
    const text = src.input('kubeconfig')
    if (text.trim() !== '') {
      try {
        cached = { source: 'kubeconfig', documents: parseKubeconfigs(text) }
      } catch (e) {
        if (e instanceof KubeconfigProblem) throw new InputError('kubeconfig', '', `the value ${e.message}`)
        throw e
      }
      return cached
    }
    const envList = src.env.KUBECONFIG?.split(path.delimiter).filter(Boolean)
    const files = envList?.length ? envList : [path.join(src.env.HOME ?? os.homedir(), '.kube', 'config')]
    const source = envList?.length ? '$KUBECONFIG' : '~/.kube/config'
    const existing = files.map((f) => ({ f, text: readIfExists(src, f) })).filter((x): x is { f: string; text: string } => x.text !== undefined)
    if (existing.length === 0)
      throw new InputError(
        'kubeconfig',
        '',
        `is empty and ${source} (${files.join(', ')}) does not exist; give "kubeconfig", or "kubeconfig-env"/"kubeconfig-file" per cluster`
      )
    try {
      cached = { source, documents: existing.flatMap((x) => parseKubeconfigs(x.text, path.dirname(x.f))) }
    } catch (e) {
      if (e instanceof KubeconfigProblem) throw new InputError('kubeconfig', '', `${source} ${e.message}`)
      throw e
    }
    return cached
  }
}

/**
 * What istioctl makes of a revision: it copies spec.revision to values.revision as `--set values.revision=<rev>`
 * (operator/pkg/render/manifest.go translateIstioOperatorToHelm, 1.28–1.31), and values/map.go parseValue takes
 * whatever strconv.Atoi, ParseFloat or ParseBool accept. The string field then fails to decode ("cannot unmarshal
 * number into Go value of type string"; for inf/nan istioctl panics). Among DNS-1123 labels that is exactly (checked
 * against Go's strconv for every label up to 5 characters): digits; <digits>e[-]<digits> and 0x<hex>p[-]<digits>
 * unless they overflow (then ParseFloat fails and the value stays a string); inf, infinity, nan; t, f, true, false.
 */
export function istioctlReadsAs(rev: string): 'number' | 'boolean' | undefined {
  if (/^(t|f|true|false)$/.test(rev)) return 'boolean'
  if (/^(\d+|inf|infinity|nan)$/.test(rev)) return 'number'
  if (/^\d+e-?\d+$/.test(rev)) return Number.isFinite(Number(rev)) ? 'number' : undefined
  const hex = /^0x([0-9a-f]+)p(-?\d+)$/.exec(rev)
  if (!hex) return undefined
  const mantissa = BigInt(`0x${hex[1]}`)
  // Scaling by a power of two keeps the rounding of the mantissa, so this overflows exactly when Go's does.
  return mantissa === 0n || Number.isFinite(Number(mantissa) * 2 ** Number(hex[2])) ? 'number' : undefined
}

function stringField(item: Record<string, unknown>, i: number, field: string, required: boolean): string | undefined {
  const v = item[field]
  if (v === undefined || v === null) {
    if (required) throw new InputError('clusters', itemField(i, field), 'is required')
    return undefined
  }
  if (typeof v !== 'string' && typeof v !== 'number') throw new InputError('clusters', itemField(i, field), `must be a string, got ${describeType(v)}`)
  const s = String(v).trim()
  if (s === '') throw new InputError('clusters', itemField(i, field), 'must not be empty')
  return s
}

function readIfExists(src: ConfigSource, file: string): string | undefined {
  try {
    return src.readFile(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InputError('kubeconfig', '', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
}

function readFileFor(src: ConfigSource, file: string, input: string, where: string): string {
  try {
    return src.readFile(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError(input, where, code === 'ENOENT' ? `file ${file} does not exist` : `cannot read ${file} (${code ?? String(e)})`)
  }
}

function requireUrl(input: string, where: string, value: string, protocols: string[]): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(input, where, `must be a URL (${protocols.join(' or ')}), got ${JSON.stringify(value)}`)
  }
  if (!protocols.includes(url.protocol)) throw new InputError(input, where, `must use ${protocols.join(' or ')}, got ${JSON.stringify(value)}`)
}

function durationInput(src: ConfigSource, name: string, fallback: string): number {
  const text = src.input(name).trim() || fallback
  const ms = parseDuration(text)
  if (ms === undefined || ms <= 0) throw new InputError(name, '', `must be a duration like "90s", "5m" or "1h30m", got ${JSON.stringify(text)}`)
  if (ms > 6 * 3_600_000) throw new InputError(name, '', `must be at most 6h (a job's limit), got ${JSON.stringify(text)}`)
  return ms
}

function booleanInput(src: ConfigSource, name: string, fallback: boolean): boolean {
  const text = src.input(name).trim().toLowerCase()
  if (text === '') return fallback
  if (text === 'true') return true
  if (text === 'false') return false
  throw new InputError(name, '', `must be "true" or "false", got ${JSON.stringify(text)}`)
}

function oneOf<T extends string>(src: ConfigSource, name: string, allowed: readonly T[], fallback: T): T {
  const text = src.input(name).trim() || fallback
  if ((allowed as readonly string[]).includes(text)) return text as T
  const hint = closest(text, allowed)
  throw new InputError(
    name,
    '',
    `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(text)}${hint ? `; did you mean "${hint}"?` : ''}`
  )
}

function imageInput(src: ConfigSource, name: string, fallback: string): string {
  const text = src.input(name).trim() || fallback
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(text) || /\s/.test(text))
    throw new InputError(name, '', `must be an image reference like "${fallback}", got ${JSON.stringify(text)}`)
  return text
}

/**
 * An image repository that istioctl appends `/<image>:<tag>` to: an optional registry host (with port), then lowercase
 * path components (the reference grammar of the distribution spec; what istioctl's validateHub accepts, and stricter).
 */
function parseHub(text: string): string {
  const hub = text.trim() || DEFAULT_HUB
  const problem = hubProblem(hub)
  if (problem)
    throw new InputError('hub', '', `${problem}; give a registry and path like "${DEFAULT_HUB}" or "my-mirror.example:5000/istio", got ${JSON.stringify(hub)}`)
  return hub
}

function hubProblem(hub: string): string | undefined {
  if (/\s/.test(hub)) return 'must not contain spaces'
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(hub)) return 'must not start with a scheme (no "https://")'
  if (hub.endsWith('/')) return 'must not end with "/"'
  const parts = hub.split('/')
  const last = parts[parts.length - 1]
  if (last.includes('@') || (parts.length > 1 && last.includes(':'))) return 'must not carry a tag or digest: istioctl appends "/<image>:<version>" to it'
  const registry = parts.length > 1 && /[.:]|^localhost$/.test(parts[0]) ? parts.shift()! : undefined
  if (registry !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/.test(registry))
    return `has a registry part ${JSON.stringify(registry)} that is not a host name with an optional port`
  const bad = parts.find((p) => !/^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$/.test(p))
  if (bad !== undefined) return `has a path component ${JSON.stringify(bad)}: lowercase letters and digits, separated by ".", "_" or "-"`
  return undefined
}

function parseMaxParallel(text: string): number {
  const s = text.trim()
  if (s === '') return Infinity
  if (!/^\d+$/.test(s) || Number(s) < 1) throw new InputError('max-parallel', '', `must be a whole number of at least 1, got ${JSON.stringify(s)}`)
  return Number(s)
}

/** Fields the action owns: letting an overlay change them would split the mesh or break pruning. */
const OWNED_OVERLAY_PATHS = [
  ['spec', 'values', 'global', 'meshID'],
  ['spec', 'values', 'global', 'network'],
  ['spec', 'values', 'global', 'multiCluster', 'clusterName'],
  ['spec', 'revision'],
  // istioctl applies the user's spec.values last (render/manifest.go MergeInputs): this one would win over spec.revision.
  ['spec', 'values', 'revision'],
  ['spec', 'hub'],
  ['spec', 'values', 'global', 'hub'],
  ['metadata', 'name']
]

/**
 * Profiles (manifests/profiles/, the same ten in 1.28–1.31) that still install what the action builds, a sidecar
 * multi-primary control plane: default; demo (+ egress gateway, small requests, access logs); minimal (no ingress
 * gateway); preview and stable (default + feature flags); openshift (default + the CNI plugin OpenShift needs, still
 * sidecars). Not: empty (no istiod), remote (istiodRemote: config for an external istiod), ambient and
 * openshift-ambient (ztunnel + CNI: the ambient data plane). The Helm-level values.profile / values.global.profile
 * names charts' files/profile-*.yaml (ambient, demo, preview, remote, stable). Empty means the default.
 */
const SIDECAR_PROFILES = ['default', 'demo', 'minimal', 'preview', 'stable', 'openshift']
const SIDECAR_HELM_PROFILES = ['demo', 'preview', 'stable']
const SIDECAR = 'the action installs a sidecar multi-primary control plane'
const profileIn = (names: string[]) => (v: unknown) =>
  v === '' || names.includes(v as string) ? undefined : `is ${JSON.stringify(v)}; ${SIDECAR}: use one of ${names.map((n) => `"${n}"`).join(', ')}`
const TOPOLOGY_OVERLAY_CHECKS: [string, (v: unknown) => string | undefined][] = [
  ['spec.profile', profileIn(SIDECAR_PROFILES)],
  ['spec.values.profile', profileIn(SIDECAR_HELM_PROFILES)],
  ['spec.values.global.profile', profileIn(SIDECAR_HELM_PROFILES)],
  ['spec.components.ztunnel.enabled', (v) => (v === true ? `enables ztunnel, the ambient data plane; ${SIDECAR}` : undefined)],
  ['spec.components.istiodRemote.enabled', (v) => (v === true ? `makes the cluster a remote of an external control plane; ${SIDECAR}` : undefined)],
  ['spec.components.pilot.enabled', (v) => (v === false ? `disables istiod; ${SIDECAR}, with an istiod in every cluster` : undefined)]
]

function parseOperatorOverlay(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined
  const overlay = loadYamlInput('operator-overlay', text)
  if (!isMap(overlay)) throw new InputError('operator-overlay', '', `must be an IstioOperator (a YAML map), got ${describeType(overlay)}`)
  for (const key of Object.keys(overlay))
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key))
      throw new InputError('operator-overlay', `field "${key}"`, 'unknown top-level field of an IstioOperator (apiVersion, kind, metadata, spec)')
  if (overlay.kind !== undefined && overlay.kind !== 'IstioOperator')
    throw new InputError('operator-overlay', 'field "kind"', `must be "IstioOperator", got ${JSON.stringify(overlay.kind)}`)
  for (const p of OWNED_OVERLAY_PATHS) {
    let v: unknown = overlay
    for (const k of p) v = isMap(v) ? v[k] : undefined
    if (v !== undefined) {
      const owner =
        p[p.length - 1] === 'revision'
          ? 'the "revision" input'
          : p[p.length - 1] === 'hub'
            ? 'the "hub" input (every Istio image comes from it; a mirror goes there too)'
            : p[p.length - 1] === 'name'
              ? 'the action (it names the control plane "control-plane" so re-installs do not prune the gateway)'
              : p[p.length - 1] === 'meshID'
                ? 'the "mesh-id" input'
                : 'the "clusters" input'
      throw new InputError('operator-overlay', `field "${p.join('.')}"`, `is set by ${owner}; remove it from the overlay`)
    }
  }
  for (const [p, check] of TOPOLOGY_OVERLAY_CHECKS) {
    let v: unknown = overlay
    for (const k of p.split('.')) v = isMap(v) ? v[k] : undefined
    const problem = v === undefined ? undefined : check(v)
    if (problem) throw new InputError('operator-overlay', `field "${p}"`, problem)
  }
  if (overlay.spec !== undefined && !isMap(overlay.spec))
    throw new InputError('operator-overlay', 'field "spec"', `must be a map, got ${describeType(overlay.spec)}`)
  return overlay
}

function parseAnnotations(text: string): Record<string, string> {
  if (text.trim() === '') return {}
  const value = loadYamlInput('gateway-service-annotations', text)
  if (!isMap(value)) throw new InputError('gateway-service-annotations', '', `must be a YAML map of annotation → value, got ${describeType(value)}`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k) || k.length > 316)
      throw new InputError('gateway-service-annotations', `key ${JSON.stringify(k)}`, 'is not a valid annotation key (prefix/name)')
    if (isMap(v) || Array.isArray(v) || v === null)
      throw new InputError('gateway-service-annotations', `key ${JSON.stringify(k)}`, `must have a string value, got ${describeType(v)}`)
    out[k] = String(v)
  }
  return out
}

function parseCa(src: ConfigSource): Config['ca'] {
  const mode = oneOf(src, 'ca', ['generate', 'provided', 'existing', 'none'] as const, 'generate')
  const rotate = booleanInput(src, 'ca-rotate', false)
  const certText = src.input('ca-root-cert').trim()
  const keyText = src.input('ca-root-key').trim()
  if (mode !== 'provided') {
    if (certText || keyText) throw new InputError(certText ? 'ca-root-cert' : 'ca-root-key', '', `is only used with ca: provided (ca is "${mode}")`)
    return { mode, rotate }
  }
  if (!certText) throw new InputError('ca-root-cert', '', 'is required with ca: provided (the PEM of the root certificate)')
  if (!keyText) throw new InputError('ca-root-key', '', 'is required with ca: provided (the PEM of the root private key, from a secret)')
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certText)
  } catch {
    throw new InputError('ca-root-cert', '', 'is not a PEM certificate')
  }
  if (!cert.ca) throw new InputError('ca-root-cert', '', `is not a CA certificate (basicConstraints CA:true), subject ${JSON.stringify(cert.subject)}`)
  let matches: boolean
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyText))
  } catch {
    throw new InputError('ca-root-key', '', 'is not a PEM private key (no key text is shown here)')
  }
  if (!matches)
    throw new InputError(
      'ca-root-key',
      '',
      `does not match the public key of ca-root-cert (${createPublicKey(certText).asymmetricKeyType} certificate ${JSON.stringify(cert.subject)})`
    )
  return { mode, rotate, rootCert: certText + '\n', rootKey: keyText + '\n' }
}
