// Every kind of step, in one table that TypeScript checks: a kind without its entry does not compile. A kind's work
// is in the planner (install-plan.ts / uninstall-plan.ts: when, after what, with which StepAction) and the executor
// (executor.ts: how each StepAction runs); everything else about it is here.
import type { ClusterConfig, Config } from '../config/index.js'
import type { UpgradeNote } from '../preflight.js'
import type { ClusterState } from '../state.js'
import type { Step } from './step.js'

/** In this order the job summary shows their columns. */
export const STEP_KINDS = [
  'namespace',
  'gateway-service',
  'gateway-api-crds',
  'root-of-trust',
  'control-plane',
  'eastwest-gateway',
  'gateway-address',
  'gateway-forwarding',
  'expose-services',
  'expose-istiod',
  'remote-secret',
  'remote-secrets-in',
  'verify',
  'verify-deploy',
  'verify-traffic',
  'verify-cleanup',
  'remove-gateway-service',
  'prune-remote-secrets',
  'remove-remote-secrets',
  'remove-verify',
  'remove-eastwest-gateway',
  'uninstall',
  'remove-gateway-api-crds',
  'remove-reader',
  'remove-namespace'
] as const

export type StepKind = (typeof STEP_KINDS)[number]

/** What mode: plan knows about one step of the install plan in one cluster. */
export interface PlanContext {
  config: Config
  cluster: ClusterConfig
  /** What the cluster carries now. */
  state: ClusterState
  step: Step
  version: string
  /** This cluster's istiod moving to another version, if it does. */
  upgrade?: UpgradeNote
  /** Remote secrets in this cluster of clusters no longer listed. */
  stale: { name: string; cluster: string }[]
}

export interface StepKindInfo {
  /** Its column in the job summary's table; null: the log shows the step, the table does not. */
  column: string | null
  /** mode: plan — what install would do in this step, given what the cluster carries now. */
  plans(p: PlanContext): string
}

/** The step's title says it all (verification, and uninstall's kinds, which mode: plan never shows). */
const asTitled = ({ step }: PlanContext): string => step.title

export const STEP_KIND_INFO = {
  namespace: {
    column: 'Namespace',
    plans: ({ state: s, cluster: c }) =>
      !s.namespaceExists
        ? `create istio-system labelled network ${c.network}`
        : s.network === c.network
          ? 'unchanged'
          : `relabel network ${s.network ?? '(none)'} → ${c.network}`
  },
  'gateway-service': {
    column: 'Load balancer',
    plans: ({ state: s }) =>
      s.gateway
        ? 'unchanged (the east-west gateway Service exists)'
        : 'create the east-west gateway Service now, so the cloud starts provisioning its load balancer while istiod installs'
  },
  'gateway-api-crds': {
    column: 'Gateway API CRDs',
    plans: ({ step }) => step.title
  },
  'root-of-trust': {
    column: 'Root of trust',
    plans: ({ state: s, config }) =>
      !s.cacerts
        ? `create cacerts (ca: ${config.ca.mode})`
        : `keep cacerts if it chains to the mesh root (ca: ${config.ca.mode}); otherwise fail unless ca-rotate`
  },
  'control-plane': {
    column: 'Control plane',
    plans: ({ state: s, cluster: c, config, version, upgrade: up }) => {
      if (c.role === 'remote')
        return `${s.remoteProfile ? 're-apply' : 'install'} Istio ${version}, profile remote: injection and xDS from ${c.primary}'s istiod through its east-west gateway`
      if (up)
        return `${up.kind === 'canary' ? 'install beside' : up.kind === 'downgrade' ? 'downgrade' : 'upgrade in place'}: ${up.from} → ${up.to}`
      const same =
        s.istiods.length &&
        s.values?.meshID === config.meshId &&
        s.values?.clusterName === c.name &&
        s.values?.network === c.network
      return !s.istiods.length
        ? `install Istio ${version}`
        : same
          ? `re-apply Istio ${version} (values already match)`
          : `re-apply Istio ${version}: values change (meshID ${s.values?.meshID} → ${config.meshId}, clusterName ${s.values?.clusterName} → ${c.name}, network ${s.values?.network} → ${c.network})`
    }
  },
  'eastwest-gateway': {
    column: 'East-west gateway',
    plans: ({ state: s }) => (s.gateway ? 're-apply the east-west gateway' : 'install the east-west gateway')
  },
  'gateway-address': {
    column: 'Address',
    plans: ({ state: s }) =>
      s.gateway?.address ? `wait for the address (now ${s.gateway.address})` : 'wait for a load-balancer address'
  },
  'gateway-forwarding': {
    column: "Peers' gateways forward",
    plans: ({ step }) =>
      `probe the gateways of ${step.action.type === 'wait-gateway-forwarding' ? step.action.peers.join(', ') : 'its peers'} on port 15443 from one pod until they forward`
  },
  'expose-services': { column: 'Expose services', plans: asTitled },
  'expose-istiod': { column: 'Expose istiod', plans: asTitled },
  'remote-secret': {
    column: 'Remote secret',
    plans: ({ cluster: c }) => `create-remote-secret --name ${c.name}${c.apiServer ? ` --server ${c.apiServer}` : ''}`
  },
  'remote-secrets-in': {
    column: 'Secrets applied',
    plans: ({ state: s, step }) => {
      const sources = step.action.type === 'apply-remote-secrets' ? step.action.sources : []
      const present = new Set(s.remoteSecrets.map((r) => r.cluster))
      const missing = sources.filter((x) => !present.has(x))
      return missing.length
        ? `add remote secrets of ${missing.join(', ')}${missing.length < sources.length ? `; refresh ${sources.filter((x) => present.has(x)).join(', ')}` : ''}`
        : `refresh remote secrets of ${sources.join(', ')}`
    }
  },
  verify: { column: 'Verify', plans: asTitled },
  'verify-deploy': { column: null, plans: asTitled },
  'verify-traffic': { column: 'Traffic', plans: asTitled },
  'verify-cleanup': { column: null, plans: asTitled },
  'remove-gateway-service': {
    column: null,
    plans: () =>
      'if the east-west gateway install does not succeed: delete the Service this run created, and its load balancer'
  },
  'prune-remote-secrets': {
    column: 'Pruned secrets',
    plans: ({ stale }) => `delete stale remote secrets of ${stale.map((x) => x.cluster).join(', ')}`
  },
  'remove-remote-secrets': { column: 'Remote secrets removed', plans: asTitled },
  'remove-verify': { column: null, plans: asTitled },
  'remove-eastwest-gateway': { column: null, plans: asTitled },
  uninstall: { column: 'istioctl uninstall', plans: asTitled },
  'remove-gateway-api-crds': { column: 'Gateway API CRDs removed', plans: asTitled },
  'remove-reader': { column: null, plans: asTitled },
  'remove-namespace': { column: 'Namespace deleted', plans: asTitled }
} satisfies Record<StepKind, StepKindInfo>

/** The summary's columns: each kind that has one, in STEP_KINDS order. */
export const SUMMARY_COLUMNS: [StepKind, string][] = STEP_KINDS.flatMap((k) => {
  const column: string | null = STEP_KIND_INFO[k].column
  return column ? [[k, column] as [StepKind, string]] : []
})
