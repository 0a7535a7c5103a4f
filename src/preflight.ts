// What the clusters carry now means for this run, before anything changes: upgrades (allowed or not, and what a canary
// leaves to do) and the remote secrets of clusters no longer listed. Install and plan check both the same way.
import { Config } from './config/index.js'
import { INJECTION_LABEL, REVISION_LABEL } from './istio-names.js'
import { Semver, compareSemver, formatSemver, parseSemver } from './istioctl/version.js'
import { ClusterState } from './state.js'

/** Remote secrets of clusters that are no longer in `clusters` (a cluster removed from the mesh). */
export function staleRemoteSecrets(
  config: Config,
  states: Map<string, ClusterState>
): Map<string, { name: string; cluster: string }[]> {
  const members = new Set(config.clusters.map((c) => c.name))
  const stale = new Map<string, { name: string; cluster: string }[]>()
  for (const c of config.clusters) {
    const found = (states.get(c.name)?.remoteSecrets ?? []).filter((s) => !members.has(s.cluster))
    if (found.length) stale.set(c.name, found)
  }
  return stale
}

export interface UpgradeNote {
  cluster: string
  from: string
  to: string
  kind: 'in-place' | 'canary' | 'downgrade'
}

/**
 * What installing `target` means for each cluster that already runs istiod. Istio supports in-place upgrades across one
 * minor version (1.29 → 1.30) and revision-based (canary) upgrades across two; a larger jump fails here, before any
 * cluster is touched.
 */
export function checkUpgrades(config: Config, target: Semver, states: Map<string, ClusterState>): UpgradeNote[] {
  const notes: UpgradeNote[] = []
  const wantedRevision = config.revision ?? 'default'
  for (const c of config.clusters) {
    for (const istiod of states.get(c.name)?.istiods ?? []) {
      const current = istiod.version ? parseSemver(istiod.version) : undefined
      const sameRevision = istiod.revision === wantedRevision
      if (!current || (sameRevision && compareSemver(current, target) === 0)) continue
      const kind =
        compareSemver(target, current) < 0 && sameRevision ? 'downgrade' : sameRevision ? 'in-place' : 'canary'
      const minorJump = (target.major - current.major) * 100 + target.minor - current.minor
      const supported = kind === 'canary' ? 2 : 1
      if (minorJump > supported && !config.allowSkipMinor)
        throw new Error(
          `${c.name} runs Istio ${formatSemver(current)} (revision ${istiod.revision}); going to ${formatSemver(target)} skips ${minorJump - 1} minor version(s). ` +
            `Istio supports ${kind === 'canary' ? 'canary upgrades across at most two' : 'upgrading one'} minor version${kind === 'canary' ? 's' : ''} at a time: install ${current.major}.${current.minor + supported} first, or set allow-skip-minor: true to accept the risk.`
        )
      notes.push({
        cluster: c.name,
        from: `${formatSemver(current)} (${istiod.revision})`,
        to: `${formatSemver(target)} (${wantedRevision})`,
        kind
      })
    }
  }
  return notes
}

/** What a canary upgrade leaves to the user: Istio never moves workloads by itself. */
export function canaryNextSteps(config: Config, notes: UpgradeNote[]): string[] {
  if (!config.revision || !notes.some((n) => n.kind === 'canary')) return []
  const old = [
    ...new Set(notes.filter((n) => n.kind === 'canary').map((n) => /\((.*)\)$/.exec(n.from)?.[1] ?? 'default'))
  ]
  return [
    `Relabel each workload namespace: kubectl label namespace <ns> ${INJECTION_LABEL}- ${REVISION_LABEL}=${config.revision} --overwrite`,
    'Restart its workloads so they get the new sidecar: kubectl rollout restart deployment -n <ns>',
    `When nothing uses the old control plane any more, remove it: ${old.map((r) => `istioctl uninstall -y --revision ${r}`).join('; ')}`
  ]
}
