import { parseDuration } from '../duration.js'
import { stderrBlock } from '../errors.js'
import { ISTIOD_SELECTOR, ISTIO_NAMESPACE, OPERATOR_VERSION_LABEL, REVISION_LABEL } from '../istio-names.js'
import { Semver, parseSemver } from '../istioctl/version.js'
import { ClusterTools, CommandError, StepLog } from '../tools.js'
import * as kubectl from './kubectl.js'

/** An istiod Deployment in istio-system, with the Istio version istioctl labelled it with. */
export interface IstiodDeployment {
  name: string
  revision: string
  version?: string
}

/** Every istiod Deployment (all revisions) in istio-system: one bounded read. */
export async function listIstiods(tools: ClusterTools, cluster: string, log: StepLog): Promise<IstiodDeployment[]> {
  const json = await kubectl.getJson(
    tools,
    cluster,
    { resource: 'deployments', namespace: ISTIO_NAMESPACE, selector: ISTIOD_SELECTOR },
    log,
    { quiet: true }
  )
  const items =
    (JSON.parse(json || '{}') as { items?: { metadata: { name: string; labels?: Record<string, string> } }[] }).items ??
    []
  return items.map((d) => ({
    name: d.metadata.name,
    revision: d.metadata.labels?.[REVISION_LABEL] ?? 'default',
    version: d.metadata.labels?.[OPERATOR_VERSION_LABEL]
  }))
}

/** How long a restarted istiod may take to be ready again: istioctl's own --readiness-timeout for it (5m). */
export const DEFAULT_ROLLOUT_TIMEOUT_MS = 5 * 60_000

/** ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT (a duration such as `90s`) overrides how long istiod's restart may take. */
export function rolloutTimeoutMs(env: NodeJS.ProcessEnv): number {
  const wanted = env.ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT?.trim()
  const ms = wanted ? parseDuration(wanted) : undefined
  return ms && ms >= 1000 ? ms : DEFAULT_ROLLOUT_TIMEOUT_MS
}

/**
 * Restarts istiod Deployments (names as `deployment/x` or `x`) and waits for their rollouts, bounded by the rollout
 * timeout (kubectl.rolloutStatus waits again after a transient failure); `what` says in the error what is in place
 * meanwhile.
 */
export async function restartIstiods(
  tools: ClusterTools,
  cluster: string,
  names: string[],
  what: string,
  log: StepLog
): Promise<void> {
  const refs = names.map((n) => (n.includes('/') ? n : `deployment/${n}`))
  await kubectl.rolloutRestart(tools, cluster, refs, ISTIO_NAMESPACE, log)
  const timeoutMs = rolloutTimeoutMs(tools.env)
  const deadline = Date.now() + timeoutMs
  for (const ref of refs) {
    try {
      await kubectl.rolloutStatus(tools, cluster, ref, ISTIO_NAMESPACE, deadline, log)
    } catch (e) {
      if (!(e instanceof CommandError)) throw e
      const tailBlock = e.stderrTail ? `\n${stderrBlock(e.stderrTail)}` : ''
      throw new Error(
        `${ref} did not finish restarting within ${Math.round(timeoutMs / 1000)} s (${e.headline}). ${what}: see kubectl --context ${cluster} -n ${ISTIO_NAMESPACE} get pods -l ${ISTIOD_SELECTOR}${tailBlock}`
      )
    }
  }
}

/**
 * The Istio issues that keep an istiod's view of a remote cluster wrong after its remote secret is *updated* (not
 * created), on the releases they affect; a restart of istiod is the workaround for each. From the release notes
 * (releasenotes/notes/60612.yaml, 61043.yaml, 60920.yaml) and the tags that carry the fixes in istio/istio:
 * #60612 fixed in 1.30.3 (commit 5b3d8e36 on release-1.30), #61043 and #60920 fixed on release-1.30 after 1.30.3 (so
 * 1.30.4) and in 1.31.0; release-1.28 and release-1.29 carry none of them.
 */
export function remoteSecretUpdateBug(version: Semver): string | undefined {
  if (version.major !== 1 || version.minor > 30) return undefined
  if (version.minor < 30)
    return 'istio/istio#60612: istiod does not read an updated remote secret until it restarts (no fix on 1.28 or 1.29)'
  if (version.patch < 3)
    return 'istio/istio#60612 and #61043: istiod does not read an updated remote secret, or loses the remote endpoints, until it restarts (fixed in 1.30.4)'
  if (version.patch < 4)
    return 'istio/istio#61043 and #60920: after a remote secret update istiod loses the remote endpoints or gateway until it restarts (fixed in 1.30.4)'
  return undefined
}

/** istiods whose version has one of those bugs, each with the reason. */
export function istiodsNeedingRestart(istiods: IstiodDeployment[]): { name: string; reason: string }[] {
  return istiods.flatMap((d) => {
    const v = d.version ? parseSemver(d.version) : undefined
    const reason = v && remoteSecretUpdateBug(v)
    return reason ? [{ name: d.name, reason: `${d.version}: ${reason}` }] : []
  })
}
