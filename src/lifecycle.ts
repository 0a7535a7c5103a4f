import { Config } from './config/index.js'
import { INJECTION_LABEL, ISTIO_NAMESPACE, MULTICLUSTER_LABEL, READER_CLUSTER_ROLE, REVISION_LABEL } from './istio-names.js'
import { VERIFY_NAMESPACE } from './manifests/helloworld.js'
import { Step, StepAction, StepKind, stepId } from './plan.js'
import { ClusterState } from './state.js'
import { Semver, compareSemver, formatSemver, parseSemver } from './istioctl/version.js'

/** Remote secrets of clusters that are no longer in `clusters` (a cluster removed from the mesh). */
export function staleRemoteSecrets(config: Config, states: Map<string, ClusterState>): Map<string, { name: string; cluster: string }[]> {
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
      const kind = compareSemver(target, current) < 0 && sameRevision ? 'downgrade' : sameRevision ? 'in-place' : 'canary'
      const minorJump = (target.major - current.major) * 100 + target.minor - current.minor
      const supported = kind === 'canary' ? 2 : 1
      if (minorJump > supported && !config.allowSkipMinor)
        throw new Error(
          `${c.name} runs Istio ${formatSemver(current)} (revision ${istiod.revision}); going to ${formatSemver(target)} skips ${minorJump - 1} minor version(s). ` +
            `Istio supports ${kind === 'canary' ? 'canary upgrades across at most two' : 'upgrading one'} minor version${kind === 'canary' ? 's' : ''} at a time: install ${current.major}.${current.minor + supported} first, or set allow-skip-minor: true to accept the risk.`
        )
      notes.push({ cluster: c.name, from: `${formatSemver(current)} (${istiod.revision})`, to: `${formatSemver(target)} (${wantedRevision})`, kind })
    }
  }
  return notes
}

/** What a canary upgrade leaves to the user: Istio never moves workloads by itself. */
export function canaryNextSteps(config: Config, notes: UpgradeNote[]): string[] {
  if (!config.revision || !notes.some((n) => n.kind === 'canary')) return []
  const old = [...new Set(notes.filter((n) => n.kind === 'canary').map((n) => /\((.*)\)$/.exec(n.from)?.[1] ?? 'default'))]
  return [
    `Relabel each workload namespace: kubectl label namespace <ns> ${INJECTION_LABEL}- ${REVISION_LABEL}=${config.revision} --overwrite`,
    'Restart its workloads so they get the new sidecar: kubectl rollout restart deployment -n <ns>',
    `When nothing uses the old control plane any more, remove it: ${old.map((r) => `istioctl uninstall -y --revision ${r}`).join('; ')}`
  ]
}

/** mode: uninstall — per cluster: remote secrets, then Istio itself (all revisions, CRDs, webhooks), then the namespace. */
export function buildUninstallPlan(config: Config): Step[] {
  const steps: Step[] = []
  for (const c of config.clusters) {
    const add = (kind: StepKind, title: string, needs: StepKind[], action: StepAction) =>
      steps.push({ id: stepId(c.name, kind), cluster: c.name, kind, title, needs: needs.map((n) => stepId(c.name, n)), action })
    add('remove-remote-secrets', 'remove remote secrets', [], {
      type: 'delete',
      target: { resource: 'secret', namespace: ISTIO_NAMESPACE, selector: `${MULTICLUSTER_LABEL}=true` }
    })
    add('remove-verify', `remove namespace ${VERIFY_NAMESPACE}`, [], { type: 'delete-namespace', namespace: VERIFY_NAMESPACE })
    add('uninstall', 'istioctl uninstall --purge', ['remove-remote-secrets', 'remove-verify'], { type: 'istioctl-uninstall' })
    // create-remote-secret's reader account is cluster-scoped RBAC outside what uninstall --purge owns.
    add('remove-reader', 'remove istio-reader RBAC', ['uninstall'], {
      type: 'delete',
      target: { resource: 'clusterrolebinding,clusterrole', names: [READER_CLUSTER_ROLE] }
    })
    if (!config.keepNamespace)
      add('remove-namespace', `delete namespace ${ISTIO_NAMESPACE}`, ['uninstall'], { type: 'delete-namespace', namespace: ISTIO_NAMESPACE, wait: true })
  }
  return steps
}

export interface PlannedAction {
  step: string
  title: string
  does: string
}

export interface ClusterPlan {
  cluster: string
  current: {
    namespace: boolean
    network?: string
    istiod: string[]
    gatewayAddress?: string
    remoteSecrets: string[]
    cacerts: boolean
  }
  actions: PlannedAction[]
}

/** mode: plan — what install would do in each cluster, given what it carries now. Pure: reads nothing, writes nothing. */
export function describePlan(config: Config, version: string, steps: Step[], states: Map<string, ClusterState>, upgrades: UpgradeNote[]): ClusterPlan[] {
  const stale = staleRemoteSecrets(config, states)
  return config.clusters.map((c) => {
    const s = states.get(c.name)!
    const does = (step: Step): string => {
      switch (step.kind) {
        case 'namespace':
          return !s.namespaceExists
            ? `create istio-system labelled network ${c.network}`
            : s.network === c.network
              ? 'unchanged'
              : `relabel network ${s.network ?? '(none)'} → ${c.network}`
        case 'root-of-trust':
          return !s.cacerts
            ? `create cacerts (ca: ${config.ca.mode})`
            : `keep cacerts if it chains to the mesh root (ca: ${config.ca.mode}); otherwise fail unless ca-rotate`
        case 'control-plane': {
          const up = upgrades.find((u) => u.cluster === c.name)
          if (up) return `${up.kind === 'canary' ? 'install beside' : up.kind === 'downgrade' ? 'downgrade' : 'upgrade in place'}: ${up.from} → ${up.to}`
          const same = s.istiods.length && s.values?.meshID === config.meshId && s.values?.clusterName === c.name && s.values?.network === c.network
          return !s.istiods.length
            ? `install Istio ${version}`
            : same
              ? `re-apply Istio ${version} (values already match)`
              : `re-apply Istio ${version}: values change (meshID ${s.values?.meshID} → ${config.meshId}, clusterName ${s.values?.clusterName} → ${c.name}, network ${s.values?.network} → ${c.network})`
        }
        case 'eastwest-gateway':
          return s.gateway ? 're-apply the east-west gateway' : 'install the east-west gateway'
        case 'gateway-address':
          return s.gateway?.address ? `wait for the address (now ${s.gateway.address})` : 'wait for a load-balancer address'
        case 'remote-secret':
          return `create-remote-secret --name ${c.name}${c.apiServer ? ` --server ${c.apiServer}` : ''}`
        case 'remote-secrets-in': {
          const sources = step.action.type === 'apply-remote-secrets' ? step.action.sources : []
          const present = new Set(s.remoteSecrets.map((r) => r.cluster))
          const missing = sources.filter((x) => !present.has(x))
          return missing.length
            ? `add remote secrets of ${missing.join(', ')}${missing.length < sources.length ? `; refresh ${sources.filter((x) => present.has(x)).join(', ')}` : ''}`
            : `refresh remote secrets of ${sources.join(', ')}`
        }
        case 'prune-remote-secrets':
          return `delete stale remote secrets of ${(stale.get(c.name) ?? []).map((x) => x.cluster).join(', ')}`
        default:
          return step.title
      }
    }
    const actions: PlannedAction[] = steps.filter((st) => st.cluster === c.name).map((st) => ({ step: st.kind, title: st.title, does: does(st) }))
    const staleHere = stale.get(c.name)
    if (staleHere && !config.prune)
      actions.push({
        step: 'stale-remote-secrets',
        title: 'stale remote secrets',
        does: `found ${staleHere.map((x) => x.name).join(', ')} (clusters no longer listed); prune: true would delete them`
      })
    return {
      cluster: c.name,
      current: {
        namespace: s.namespaceExists,
        network: s.network,
        istiod: s.istiods.map((i) => `${i.name} ${i.version ?? '?'} (${i.revision})`),
        gatewayAddress: s.gateway?.address,
        remoteSecrets: s.remoteSecrets.map((r) => r.cluster),
        cacerts: Boolean(s.cacerts)
      },
      actions
    }
  })
}
