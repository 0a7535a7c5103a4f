import { InputError } from '../errors.js'
import { VersionSpec, parseVersionSpec } from '../istioctl/version.js'
import { Kubeconfig, credentialsIn, mergeKubeconfigs, pemBodyLines } from '../kube/kubeconfig.js'
import { CaConfig, parseCa } from './ca.js'
import { DataPlane, checkAmbientOverlay, checkAmbientTopology, parseDataPlane } from './data-plane.js'
import { ClusterConfig, parseClusterList } from './clusters.js'
import { DEFAULT_IMAGES, DEFAULT_PROBE_IMAGE, VerifyImages, imageInput, parseHub } from './images.js'
import {
  ConfigSource,
  LABEL_VALUE,
  booleanInput,
  durationInput,
  oneOf,
  parseAnnotations,
  parseMaxParallel,
  requireUrl
} from './inputs.js'
import { parseOperatorOverlay } from './overlay.js'
import { parseRevision } from './revision.js'
import { validateTopology } from './topology.js'

export type { CaConfig, CaMode } from './ca.js'
export type { ClusterConfig, ClusterRole } from './clusters.js'
export type { DataPlane } from './data-plane.js'
export type { ConfigSource } from './inputs.js'
export { DEFAULT_HUB, DEFAULT_IMAGES, type VerifyImages } from './images.js'

/**
 * install converges the mesh; plan only reads and says what install would do; uninstall removes it; check runs the
 * read-only pre-flight checks (src/modes/check.ts).
 */
export const MODES = ['install', 'plan', 'uninstall', 'check'] as const
export type Mode = (typeof MODES)[number]
/** What the run checks once the mesh is installed. */
export const VERIFY_MODES = ['remote-clusters', 'traffic', 'none'] as const
export type VerifyMode = (typeof VERIFY_MODES)[number]
/** When the run writes (and uploads) its diagnostics bundle (src/diagnostics/). */
export const DIAGNOSTICS_MODES = ['on-failure', 'always', 'never'] as const
export type DiagnosticsMode = (typeof DIAGNOSTICS_MODES)[number]

export interface Config {
  mode: Mode
  clusters: ClusterConfig[]
  /** One kubeconfig with one context per cluster, named by the cluster. */
  kubeconfig: Kubeconfig
  /** Every credential value found in the kubeconfigs and CA inputs: masked before anything else happens. */
  secrets: string[]
  meshId: string
  istioVersion: VersionSpec
  /** sidecar (default) or ambient: which istio.io page the mesh follows (config/data-plane.ts). */
  dataPlane: DataPlane
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
  ca: CaConfig
  verify: { mode: VerifyMode; timeoutMs: number; keep: boolean; images: VerifyImages }
  /** The image of the probe pods that explain a failure (src/probes/). */
  probeImage: string
  diagnostics: DiagnosticsMode
}

export const DEFAULT_DOWNLOAD_BASE_URL = 'https://github.com/istio/istio/releases/download'

/** Every input, parsed and validated once, before any I/O beyond reading inputs, environment and kubeconfig files. */
export function parseConfig(src: ConfigSource): Config {
  const clusters = parseClusterList(src)
  validateTopology(clusters.map((c) => c.config))
  const secrets: string[] = []
  const kubeconfig = mergeKubeconfigs(clusters.map((c) => c.kubeconfig))
  secrets.push(...credentialsIn(kubeconfig))

  const meshId = src.input('mesh-id').trim() || 'mesh1'
  if (!LABEL_VALUE.test(meshId) || meshId.length > 63)
    throw new InputError(
      'mesh-id',
      '',
      `must be a label value (letters, digits, "-", "_", "."; at most 63), got ${JSON.stringify(meshId)}`
    )

  const version = parseVersionSpec(src.input('istio-version'))
  if (typeof version === 'string') throw new InputError('istio-version', '', version)

  const downloadBaseUrl = (src.input('download-base-url').trim() || DEFAULT_DOWNLOAD_BASE_URL).replace(/\/+$/, '')
  requireUrl('download-base-url', '', downloadBaseUrl, ['http:', 'https:', 'file:'])

  const revision = parseRevision(src.input('revision'))
  const dataPlane = parseDataPlane(src, version)
  checkAmbientTopology(
    dataPlane,
    clusters.map((c) => c.config)
  )
  const operatorOverlay = parseOperatorOverlay(src.input('operator-overlay'), dataPlane === 'ambient')
  checkAmbientOverlay(dataPlane, operatorOverlay)

  const ca = parseCa(src)
  if (ca.rootKey) secrets.push(ca.rootKey, ...pemBodyLines(ca.rootKey))

  return {
    mode: oneOf(src, 'mode', MODES, 'install'),
    clusters: clusters.map((c) => c.config),
    kubeconfig,
    secrets,
    meshId,
    istioVersion: version,
    dataPlane,
    downloadBaseUrl,
    // An unexpanded expression (local runs with @github/local-action pass the default literally) is no token.
    githubToken: src
      .input('github-token')
      .trim()
      .replace(/^\$\{\{.*\}\}$/, ''),
    revision,
    operatorOverlay,
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
      mode: oneOf(src, 'verify', VERIFY_MODES, 'remote-clusters'),
      timeoutMs: durationInput(src, 'verify-timeout', '3m'),
      keep: booleanInput(src, 'verify-keep', false),
      images: {
        helloworldV1: imageInput(src, 'verify-image-helloworld-v1', DEFAULT_IMAGES.helloworldV1),
        helloworldV2: imageInput(src, 'verify-image-helloworld-v2', DEFAULT_IMAGES.helloworldV2),
        curl: imageInput(src, 'verify-image-curl', DEFAULT_IMAGES.curl)
      }
    },
    probeImage: imageInput(src, 'probe-image', DEFAULT_PROBE_IMAGE),
    diagnostics: oneOf(src, 'diagnostics', DIAGNOSTICS_MODES, 'on-failure')
  }
}
