import { InputError, itemField } from '../errors.js'
import { Semver, VersionSpec, compareSemver, formatSemver, parseSemver } from '../istioctl/version.js'
import { ConfigSource, oneOf } from './inputs.js'
import type { ClusterConfig } from './clusters.js'
import { crossesNetworks } from './topology.js'

/** sidecar: the injected proxies of "Install Multi-Primary on different networks"; ambient: ztunnel + istio-cni. */
export const DATA_PLANES = ['sidecar', 'ambient'] as const
export type DataPlane = (typeof DATA_PLANES)[number]

/** The istio.io page the ambient topology follows (and every refusal of it names). */
export const AMBIENT_PAGE =
  'https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/ ("Install ambient multi-primary on different networks")'
export const AMBIENT_LIMITS_PAGE =
  'https://istio.io/latest/docs/ambient/install/multicluster/ ("Current Status and Limitations")'

/**
 * Ambient multi-network multicluster is beta from Istio 1.29 (istio.io blog "Ambient multi-network multicluster
 * support is now Beta", 2026); the east-west GatewayClass `istio-east-west` and AMBIENT_ENABLE_MULTI_NETWORK exist
 * in 1.27/1.28 as alpha, which the action does not drive.
 */
export const AMBIENT_MIN_VERSION: Semver = { major: 1, minor: 29, patch: 0 }

const tooOld = (v: string) =>
  `data-plane "ambient" needs Istio ${AMBIENT_MIN_VERSION.major}.${AMBIENT_MIN_VERSION.minor} or newer (ambient multi-network multicluster is beta from 1.29), got istio-version ${v}; see ${AMBIENT_PAGE}`

/** The `data-plane` input, checked against an istio-version that names its minor (exact or minor), before any I/O. */
export function parseDataPlane(src: ConfigSource, version: VersionSpec): DataPlane {
  const plane = oneOf(src, 'data-plane', DATA_PLANES, 'sidecar')
  if (plane !== 'ambient') return plane
  const v =
    version.kind === 'exact'
      ? parseSemver(version.version)
      : version.kind === 'minor'
        ? { major: version.major, minor: version.minor, patch: 0 }
        : undefined
  if (v && compareSemver(v, AMBIENT_MIN_VERSION) < 0)
    throw new InputError('data-plane', '', tooOld(version.kind === 'exact' ? formatSemver(v) : `${v.major}.${v.minor}`))
  return plane
}

/** `istio-version: latest` resolved: the same refusal, before any cluster is read. */
export function dataPlaneVersionProblem(plane: DataPlane, version: string): string | undefined {
  const v = parseSemver(version)
  return plane === 'ambient' && v && compareSemver(v, AMBIENT_MIN_VERSION) < 0 ? tooOld(version) : undefined
}

/**
 * Ambient clusters that share a network: the limitations page says multicluster single-network configurations are
 * "untested, and may be broken" (alpha, where multi-network is beta from 1.29). The action installs them, and says so.
 */
export function ambientNetworkWarnings(plane: DataPlane, clusters: ClusterConfig[]): string[] {
  if (plane !== 'ambient') return []
  const byNetwork = new Map<string, string[]>()
  for (const c of clusters) byNetwork.set(c.network, [...(byNetwork.get(c.network) ?? []), c.name])
  return [...byNetwork]
    .filter(([, names]) => names.length > 1)
    .map(
      ([n, names]) =>
        `data-plane "ambient": clusters ${names.join(', ')} share network "${n}". Ambient multicluster on one network is alpha ("untested, and may be broken", ${AMBIENT_LIMITS_PAGE}); only multi-network is beta. They get no east-west gateway between them: ztunnels connect pod to pod.`
    )
}

/** Clusters on another network than c: c needs an east-west gateway when there is any (no remote in ambient). */
export function needsEastWestGateway(c: ClusterConfig, clusters: ClusterConfig[]): boolean {
  return crossesNetworks(clusters, c)
}

/**
 * The ambient install pages are multi-primary only: "Primary remote configuration is not currently supported … You
 * can only have multiple primary clusters" (the limitations page), and an ambient east-west gateway cannot expose
 * istiod, which a remote needs. So a remote with data-plane "ambient" is refused before any request.
 */
export function checkAmbientTopology(plane: DataPlane, clusters: ClusterConfig[]): void {
  if (plane !== 'ambient') return
  const i = clusters.findIndex((c) => c.role === 'remote')
  if (i >= 0)
    throw new InputError(
      'clusters',
      itemField(i, 'role'),
      `"${clusters[i].name}" is a remote, but data-plane "ambient" has no primary-remote: the ambient multicluster install pages (${AMBIENT_PAGE}) have every cluster a primary, and ${AMBIENT_LIMITS_PAGE} says "Primary remote configuration is not currently supported". Make it a primary (remove role and primary) or use data-plane: sidecar`
    )
}

/** What an operator-overlay must leave to data-plane: ambient (its profile, and the components that are the data plane). */
export function checkAmbientOverlay(plane: DataPlane, overlay: Record<string, unknown> | undefined): void {
  if (plane !== 'ambient' || !overlay) return
  const spec = (overlay.spec ?? {}) as { profile?: unknown; components?: Record<string, { enabled?: unknown }> }
  if (spec.profile !== undefined && spec.profile !== '' && spec.profile !== 'ambient')
    throw new InputError(
      'operator-overlay',
      'field "spec.profile"',
      `is ${JSON.stringify(spec.profile)}; data-plane "ambient" installs profile ambient: remove it from the overlay`
    )
  for (const c of ['cni', 'ztunnel'])
    if (spec.components?.[c]?.enabled === false)
      throw new InputError(
        'operator-overlay',
        `field "spec.components.${c}.enabled"`,
        `disables ${c === 'cni' ? 'istio-cni' : 'ztunnel'}, part of the ambient data plane data-plane "ambient" installs`
      )
}
