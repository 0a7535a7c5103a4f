// mode: check — the pre-flight: read-only checks that need no install, on a fresh or a running mesh. It creates
// nothing but its own namespace with a temporary LoadBalancer Service (and the probes' Jobs), and removes them.
import * as core from '@actions/core'
import { accessFailure, accessOk } from '../checks/access.js'
import { loadBalancerProvider } from '../checks/load-balancer.js'
import { networkLabelProvider } from '../checks/network.js'
import { CheckContext, CheckProvider } from '../checks/provider.js'
import { writeChecksSummary } from '../checks/summary.js'
import { trustChecks } from '../checks/trust.js'
import { Check } from '../checks/types.js'
import { versionChecks } from '../checks/version.js'
import { probeProvider } from '../checks/probes.js'
import type { ProbeResult } from '../probes/types.js'
import { writeDiagnostics } from '../diagnostics/bundle.js'
import { logged } from '../log.js'
import { redact } from '../secrets.js'
import { ClusterState, readClusterState } from '../state.js'
import { ClusterTools } from '../tools.js'
import { ModeContext } from './context.js'

/**
 * The checks after the runner's own reads, by name (the log group's title); the probes run pods inside the clusters
 * (checks/probes.ts).
 */
export const CHECK_PROVIDERS: [string, CheckProvider][] = [
  ['Istio version', async (ctx) => versionChecks(ctx.config, ctx.version, ctx.states)],
  ['root of trust', async (ctx) => trustChecks(ctx.config, ctx.states)],
  ['network labels', networkLabelProvider],
  ['LoadBalancer support', loadBalancerProvider],
  ['reachability from inside each cluster (probe pods)', probeProvider]
]

export async function checkMode(ctx: ModeContext): Promise<void> {
  const { config } = ctx
  const tools = new ClusterTools(ctx.kubeconfigPath, '', undefined, ctx.env)
  const { states, access } = await logged("check · read each cluster's istio-system from the runner", (log) =>
    readEach(
      tools,
      config.clusters.map((c) => c.name),
      log
    )
  )
  const probes: ProbeResult[] = []
  const base = { config, version: ctx.version, tools, states, signal: ctx.signal, probes }
  const found = await Promise.all(
    CHECK_PROVIDERS.map(([name, provider]) =>
      logged(`check · ${name}`, (log) => provider({ ...base, log } satisfies CheckContext))
    )
  )
  const checks = [...access, ...found.flat()].map((c) => ({ ...c, message: redact(c.message) }))
  report(checks)
  core.setOutput('checks', JSON.stringify(checks))
  const failed = checks.filter((c) => c.status === 'fail')
  if (!ctx.signal.aborted)
    await writeDiagnostics({ config, tools, hasIstioctl: false, checks, probes }, failed.length > 0)
  await writeChecksSummary(config.meshId, ctx.version, checks)
  if (ctx.signal.aborted) core.setFailed('Cancelled: not every check ran.')
  else if (failed.length)
    core.setFailed(
      `${failed.length} check(s) failed:\n${failed.map((c) => `${c.id}: ${c.message}${c.hint ? `\n  → ${c.hint}` : ''}`).join('\n')}`
    )
  else
    core.info(`All ${checks.length} checks passed${checks.some((c) => c.status === 'warn') ? ' (with warnings)' : ''}.`)
}

/** Each cluster on its own: one that cannot be read fails its access check, the others go on. */
async function readEach(
  tools: ClusterTools,
  clusters: string[],
  log: (line: string) => void
): Promise<{ states: Map<string, ClusterState>; access: Check[] }> {
  const states = new Map<string, ClusterState>()
  const access = await Promise.all(
    clusters.map(async (cluster) => {
      try {
        const s = await readClusterState(tools, cluster, (l) => log(`${cluster}: ${l}`))
        states.set(cluster, s)
        return accessOk(cluster, s.namespaceExists)
      } catch (e) {
        return accessFailure(cluster, redact(e instanceof Error ? e.message : String(e)))
      }
    })
  )
  return { states, access }
}

const ICON: Record<Check['status'], string> = { pass: '✔', warn: '⚠', fail: '✖', skip: '⏭' }

/** One line per check in the log; a warn or fail also as an annotation, titled by its id. */
function report(checks: Check[]): void {
  for (const c of checks) core.info(`${ICON[c.status]} ${c.id}: ${c.message}${c.hint ? ` → ${c.hint}` : ''}`)
  for (const c of checks.filter((x) => x.status === 'warn'))
    core.warning(`${c.message}${c.hint ? `\n${c.hint}` : ''}`, { title: c.id })
}
