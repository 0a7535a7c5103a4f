import { Config, DEFAULT_HUB } from './config/index.js'
import { ISTIO_NAMESPACE } from './istio-names.js'
import type { ClusterState, RetiredImage } from './state.js'

/**
 * Istio's registries decommissioned in December 2026 (istio.io blog "An Update on Our Container Registry Migration",
 * 2026-07-23; "An update on our move to AWS", 2026-08-21): registry.istio.io/release (a proxy for gcr.io/istio-release,
 * 1.30.x's default hub) and gcr.io/istio-release. No node can pull from them now; pods that run keep their image.
 */
export const RETIRED_REGISTRIES = ['registry.istio.io/release', 'gcr.io/istio-release'] as const

export const RETIREMENT = 'December 2026'

/** The retired registry an image comes from, if any. */
export function retiredRegistryOf(image: string): string | undefined {
  return RETIRED_REGISTRIES.find((r) => image === r || image.startsWith(`${r}/`))
}

/** The revision this run installs: its workloads are what install re-renders. */
const runRevision = (config: Config) => config.revision || 'default'

/**
 * One warning per workload in istio-system that still runs an image from a retired registry: which cluster, which
 * workload, which image, and what install does about it (re-render it from `hub`, or not, and then what to do).
 */
export function retiredImageWarnings(config: Config, states: Map<string, ClusterState>): string[] {
  const own = retiredRegistryOf(config.hub)
  const hub = own
    ? [
        `hub is ${config.hub}${own === config.hub ? '' : `, under ${own}`}, a registry Istio retired in ${RETIREMENT}: pods that start now cannot pull their images; use ${DEFAULT_HUB} or a mirror of it.`
      ]
    : []
  return [
    ...hub,
    ...config.clusters.flatMap((c) =>
      (states.get(c.name)?.retiredImages ?? []).map((r) => warningFor(config, c.name, r))
    )
  ]
}

/** What the job summary says about them (undefined when no cluster had any). */
export interface RetiredImageNote {
  registries: string[]
  /** Commands for the workloads install does not move by itself (injected gateways). */
  restart: string[]
}

/** From the first read (what was found) and, when there is one, a read after the run (what still pulls from them). */
export function retiredImageNote(
  first: Map<string, ClusterState>,
  now: Map<string, ClusterState> = first
): RetiredImageNote | undefined {
  const all = [...first.values()].flatMap((s) => s.retiredImages)
  if (all.length === 0) return undefined
  return { registries: [...new Set(all.map((r) => r.registry))], restart: restartCommands(now) }
}

function warningFor(config: Config, cluster: string, r: RetiredImage): string {
  const what = `${cluster}: ${r.kind} ${ISTIO_NAMESPACE}/${r.name} runs ${r.image}${r.injectedInto ? ` (injected into pod ${r.injectedInto})` : ''}`
  const why = `from a registry Istio retired in ${RETIREMENT} (${r.registry})`
  return `${what}, ${why}; ${consequence(config, cluster, r)}`
}

function consequence(config: Config, cluster: string, r: RetiredImage): string {
  const hub = config.hub
  if (r.injectedInto && r.kind !== 'Pod')
    return `install does not restart it: after install, run kubectl rollout restart ${r.kind.toLowerCase()}/${r.name} -n ${ISTIO_NAMESPACE} in ${cluster} so its pods take hub ${hub}.`
  if (!r.managed) return `install does not manage it: point its image at ${hub} (or your mirror) yourself.`
  if ((r.revision ?? 'default') !== runRevision(config))
    return `install leaves it alone (revision ${r.revision}, this run installs ${runRevision(config)}); it stops pulling once that revision is removed.`
  return `install moves it to hub ${hub}.`
}

/** The workloads that install does not move by itself, as commands. */
function restartCommands(states: Map<string, ClusterState>): string[] {
  const out: string[] = []
  for (const [cluster, s] of states)
    for (const r of s.retiredImages)
      if (r.injectedInto && r.kind !== 'Pod')
        out.push(`kubectl rollout restart ${r.kind.toLowerCase()}/${r.name} -n ${ISTIO_NAMESPACE} --context ${cluster}`)
  return [...new Set(out)]
}
