// Verification that explains itself (issue 14): when a cluster's istiod does not see a peer as synced, a probe pod in
// that cluster tests the peer's API server with the remote secret's address, CA and token, and the error says why.
import { Config } from './config/index.js'
import { ProbeResult } from './probes/types.js'
import { explainProbe } from './probes/explain.js'
import { runProbes } from './probes/run.js'
import { apiServerTargetFromRemoteSecret } from './probes/targets.js'
import { ClusterTools, StepLog } from './tools.js'

/** The probes' whole budget within a verification step: an image pull plus a few requests per peer. */
export const VERIFY_PROBE_TIMEOUT_MS = 90_000

export interface UnsyncedExplanation {
  /** One line per peer the probe found a cause for: `<message>; <cause and fix>` (the error leads with these). */
  causes: string[]
  /** What else the probes said: a peer reached all the same, one it could not test. */
  notes: string[]
  results: ProbeResult[]
}

/**
 * Probes, from `cluster`, the API servers of `peers` as the remote secrets this run created name them (the manifests
 * in `remoteSecrets`, peer → Secret YAML), and words each result. A peer without a remote secret in this run is said
 * so; a probe that reaches the API server means the problem is in istiod, and the line says where to look.
 */
export async function explainUnsynced(
  tools: ClusterTools,
  config: Pick<Config, 'probeImage'>,
  cluster: string,
  peers: string[],
  remoteSecrets: Map<string, { yaml: string }>,
  log: StepLog
): Promise<UnsyncedExplanation> {
  const causes: string[] = []
  const notes: string[] = []
  const targets = []
  for (const peer of peers) {
    const secret = remoteSecrets.get(peer)
    const target = secret && apiServerTargetFromRemoteSecret(secret.yaml)
    if (target) targets.push(target)
    else notes.push(`- ${peer}: this run created no remote secret for it to probe with`)
  }
  if (!targets.length) return { causes, notes, results: [] }
  log(`probing ${targets.map((t) => `${t.to}'s API server ${t.url}`).join(', ')} from inside ${cluster}`)
  const results = await runProbes(
    tools,
    [{ from: cluster, apiServers: targets, gateways: [] }],
    { image: config.probeImage, timeoutMs: VERIFY_PROBE_TIMEOUT_MS },
    log
  )
  for (const r of results) {
    const e = explainProbe(r)
    log(`probe ${r.from} → ${r.to} ${r.address}: ${r.status} (${r.detail})`)
    if (!e.ok && r.status !== 'error') causes.push(`${e.message}; ${e.hint}`)
    else
      notes.push(
        e.ok
          ? `- a probe pod in ${cluster} reaches ${r.to}'s API server ${r.address} with the remote secret's CA and token and may list what istiod watches, so the network is not the cause: look at istiod's log in ${cluster} (kubectl logs -n istio-system -l app=istiod | grep ${r.to})`
          : `- the probe of ${r.to}'s API server from ${cluster} could not tell: ${r.detail}`
      )
  }
  return { causes, notes, results }
}
