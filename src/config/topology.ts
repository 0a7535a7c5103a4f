import { InputError, itemField } from '../errors.js'
import type { ClusterConfig } from './clusters.js'

// The istio.io pages each topology follows (Istio 1.29–1.31; the same text on istio.io/latest).
export const PAGES = {
  multiPrimary: 'https://istio.io/latest/docs/setup/install/multicluster/multi-primary/',
  multiPrimaryMultiNetwork: 'https://istio.io/latest/docs/setup/install/multicluster/multi-primary_multi-network/',
  primaryRemote: 'https://istio.io/latest/docs/setup/install/multicluster/primary-remote/',
  primaryRemoteMultiNetwork: 'https://istio.io/latest/docs/setup/install/multicluster/primary-remote_multi-network/'
} as const

/** The page that explains a remote on its primary's network or on another. */
const remotePage = (sameNetwork: boolean) => (sameNetwork ? PAGES.primaryRemote : PAGES.primaryRemoteMultiNetwork)

/**
 * The pairs Istio supports: a remote names a primary of the list, which runs its own istiod (a remote of a remote has
 * no istiod to serve it). Pure: runs with the rest of the inputs, before any request.
 */
export function validateTopology(clusters: ClusterConfig[]): void {
  const index = new Map(clusters.map((c, i) => [c.name, i]))
  clusters.forEach((c, i) => {
    if (c.role === 'primary') {
      if (c.primary !== undefined)
        throw new InputError(
          'clusters',
          itemField(i, 'primary'),
          `only a remote has a primary; "${c.name}" is a primary (its own istiod): set "role: remote" or remove "primary" (${PAGES.primaryRemote})`
        )
      return
    }
    if (c.primary === undefined)
      throw new InputError(
        'clusters',
        itemField(i, 'primary'),
        `is required for a remote: the name of the primary cluster whose istiod serves "${c.name}" (${PAGES.primaryRemote})`
      )
    const j = index.get(c.primary)
    if (j === undefined)
      throw new InputError(
        'clusters',
        itemField(i, 'primary'),
        `names no cluster of the list: "${c.primary}" (clusters: ${clusters.map((x) => x.name).join(', ')})`
      )
    const p = clusters[j]
    if (p.name === c.name)
      throw new InputError(
        'clusters',
        itemField(i, 'primary'),
        `"${c.name}" cannot be its own primary: a remote has no istiod (${remotePage(true)})`
      )
    if (p.role === 'remote')
      throw new InputError(
        'clusters',
        itemField(i, 'primary'),
        `"${p.name}" (item ${j + 1}) is a remote itself; a remote's primary must run its own istiod, Istio has no remote of a remote (${remotePage(p.network === c.network)})`
      )
  })
}

export const isRemote = (c: ClusterConfig): boolean => c.role === 'remote'
export const primaries = (clusters: ClusterConfig[]): ClusterConfig[] => clusters.filter((c) => !isRemote(c))
export const remotesOf = (clusters: ClusterConfig[], primary: string): ClusterConfig[] =>
  clusters.filter((c) => isRemote(c) && c.primary === primary)

/** Some other cluster of the mesh is on another network: data traffic between them crosses east-west gateways. */
export const crossesNetworks = (clusters: ClusterConfig[], c: ClusterConfig): boolean =>
  clusters.some((o) => o.name !== c.name && o.network !== c.network)

/**
 * An east-west gateway where a page installs one: a primary that serves remotes (istiod is exposed through it), and
 * any cluster with a peer on another network (multi-network pages). Multi-primary on one network has none.
 */
export const needsEastWestGateway = (clusters: ClusterConfig[], c: ClusterConfig): boolean =>
  (!isRemote(c) && remotesOf(clusters, c.name).length > 0) || crossesNetworks(clusters, c)

/**
 * expose-services.yaml goes to the primaries only: a remote's gateway takes its config from its primary's istiod
 * ("exposing services on the primary cluster will expose them on the east-west gateways of both clusters").
 */
export const exposesServices = (clusters: ClusterConfig[], c: ClusterConfig): boolean =>
  !isRemote(c) && crossesNetworks(clusters, c)

/**
 * The clusters whose istiod gets c's remote secret: every other primary (a remote has no istiod to read one). The
 * pages attach a remote to its primary; another primary of the mesh needs the secret too, to discover its endpoints.
 */
export const secretTargets = (clusters: ClusterConfig[], c: ClusterConfig): ClusterConfig[] =>
  primaries(clusters).filter((p) => p.name !== c.name)

/** The clusters whose remote secrets c's istiod reads (none for a remote). */
export const secretSources = (clusters: ClusterConfig[], c: ClusterConfig): ClusterConfig[] =>
  isRemote(c) ? [] : clusters.filter((s) => s.name !== c.name)

/** What a cluster carries that tells its role (state.ts). */
export interface RoleEvidence {
  namespaceExists: boolean
  istiods: { name: string; version?: string }[]
  controlPlaneClusters?: string
  remoteProfile?: boolean
}

/**
 * A running cluster listed in another role: Istio has no path from one to the other in place (the remote profile
 * leaves a primary's istiod running; a primary's install over a remote finds the remote's objects), so the run is
 * refused before anything changes.
 */
export function roleChange(clusters: ClusterConfig[], states: Map<string, RoleEvidence>): string | undefined {
  for (const [i, c] of clusters.entries()) {
    const s = states.get(c.name)
    if (!s?.namespaceExists) continue
    const was =
      c.role === 'remote' && s.istiods.length
        ? `runs its own istiod (${s.istiods.map((x) => `${x.name} ${x.version ?? ''}`.trim()).join(', ')}): it is a primary`
        : c.role === 'primary' && !s.istiods.length && s.remoteProfile
          ? `is a remote of ${s.controlPlaneClusters ?? '(no topology.istio.io/controlPlaneClusters)'} (profile remote installed, no istiod)`
          : undefined
    if (was)
      return `Input "clusters", ${itemField(i, 'role')}: "${c.name}" is listed as ${c.role} but ${was}. Changing a running cluster's role is not supported: uninstall Istio from ${c.name} first (mode: uninstall), then install it as ${c.role} (${PAGES.primaryRemote})`
  }
  return undefined
}
