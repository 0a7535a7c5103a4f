import * as core from '@actions/core'
import { Config } from './config/index.js'
import { SUMMARY_COLUMNS, StepKind } from './steps/registry.js'
import { stepId } from './steps/step.js'
import { StepResult, StepStatus } from './runner.js'
import { RemoteStatus } from './verify.js'
import { formatSeconds } from './duration.js'
import { EASTWEST_GATEWAY, ISTIO_NAMESPACE } from './istio-names.js'
import { UpgradeNote } from './preflight.js'
import type { ProbeResult } from './probes/types.js'
import type { TrustOutcome } from './trust/trust.js'
import { RetiredImageNote } from './retired-registries.js'
import { renderIntermediates, renderMermaid, retiredImagesNote } from './summary/notes.js'
import { knownFix, renderWhatWentWrong } from './summary/what-went-wrong.js'

export { renderPlanSummary, writePlanSummary } from './summary/plan.js'

export interface RunReport {
  config: Config
  istioVersion: string
  istioctlPath: string
  results: Map<string, StepResult>
  remoteStatus: Map<string, Map<string, RemoteStatus>>
  rootCertPem?: string
  durationMs: number
  /** Clusters whose istiod moves to another version. */
  upgrades?: UpgradeNote[]
  /** What a canary upgrade leaves to the user. */
  nextSteps?: string[]
  /** Remote secrets of clusters no longer listed, left in place (prune: false). */
  staleSecrets?: Map<string, { name: string; cluster: string }[]>
  /** Per cluster, how many objects the run changed (0: unchanged); absent when it could not be measured. */
  changes?: Map<string, number>
  /** Per cluster: when the intermediate CA of its cacerts expires (ISO time), and what the run did to it. */
  intermediates?: Map<string, { notAfter: string; outcome: TrustOutcome }>
  /** Workloads that ran images from retired registries when the run started. */
  retiredImages?: RetiredImageNote
  /** What the probe pods found (src/probes/), for the diagnostics bundle. */
  probes?: ProbeResult[]
  /** Per cluster, the traffic check's client proxy's endpoints (JSON) when that check read them. */
  proxyEndpoints?: Map<string, string>
  /** Where the diagnostics bundle was written, when it was. */
  diagnosticsPath?: string
}

export interface ClusterOutcome {
  name: string
  network: string
  context: string
  gatewayAddress: string | null
  status: StepStatus
}

export function clusterOutcomes(r: RunReport): ClusterOutcome[] {
  return r.config.clusters.map((c) => {
    const mine = [...r.results.values()].filter((s) => s.step.cluster === c.name)
    const worst =
      (['failed', 'cancelled', 'skipped'] as StepStatus[]).find((s) => mine.some((m) => m.status === s)) ?? 'ok'
    return {
      name: c.name,
      network: c.network,
      context: c.name,
      gatewayAddress: r.results.get(stepId(c.name, 'gateway-address'))?.value ?? null,
      status: worst
    }
  })
}

/** Verified only when the checks ran in every cluster and all passed (remote-clusters, and traffic when asked). */
export function isVerified(r: RunReport): boolean {
  const kinds: StepKind[] = r.config.verify.mode === 'traffic' ? ['verify', 'verify-traffic'] : ['verify']
  const checks = [...r.results.values()].filter((s) => kinds.includes(s.step.kind))
  // remote-clusters runs on the primaries only (a remote has no istiod), traffic in every cluster.
  const expected =
    r.config.clusters.filter((c) => c.role !== 'remote').length + (kinds.length > 1 ? r.config.clusters.length : 0)
  return r.config.verify.mode !== 'none' && checks.length === expected && checks.every((s) => s.status === 'ok')
}

/**
 * Clusters where this run created the east-west gateway's Service early (a billed load balancer) and neither the
 * gateway install took it over nor the cleanup removed it: a cancelled run stops before its cleanup can.
 */
export function unclaimedLoadBalancers(results: Map<string, StepResult>): string[] {
  return (
    [...results.values()]
      // A cancelled apply may have created it before kubectl returned: counted, since the object may well exist.
      .filter(
        (s) =>
          s.step.kind === 'gateway-service' &&
          s.step.action.type === 'server-side-apply' &&
          (s.status === 'ok' || (s.status === 'cancelled' && s.startedAt !== undefined))
      )
      .map((s) => s.step.cluster)
      .filter(
        (c) =>
          results.get(stepId(c, 'eastwest-gateway'))?.status !== 'ok' &&
          results.get(stepId(c, 'remove-gateway-service'))?.status !== 'ok'
      )
      .sort()
  )
}

/** How to remove what unclaimedLoadBalancers found in one cluster. */
export const deleteGatewayServiceCommand = (cluster: string): string =>
  `kubectl --context ${cluster} -n ${ISTIO_NAMESPACE} delete service ${EASTWEST_GATEWAY}`

/** Every output, in one place. */
export function publishOutputs(r: RunReport): void {
  const outcomes = clusterOutcomes(r)
  const addresses = Object.fromEntries(outcomes.map((o) => [o.name, o.gatewayAddress]))
  core.setOutput('gateway-addresses', JSON.stringify(addresses))
  for (const o of outcomes) core.setOutput(`${o.name}-gateway-address`, o.gatewayAddress ?? '')
  core.setOutput(
    'clusters',
    JSON.stringify(
      outcomes.map(({ name, network, context, gatewayAddress, status }) => ({
        name,
        network,
        context,
        gatewayAddress,
        status
      }))
    )
  )
  core.setOutput('istio-version', r.istioVersion)
  core.setOutput('istioctl-path', r.istioctlPath)
  core.setOutput('root-cert', r.rootCertPem ?? '')
  core.setOutput('verified', String(isVerified(r)))
}

const ICON: Record<StepStatus, string> = { ok: '✅', failed: '❌', skipped: '⏭️', cancelled: '🚫' }

/** The job summary as Markdown: per-cluster table, mesh picture, remote-clusters matrix, failures. */
export function renderSummary(r: RunReport): string {
  const outcomes = clusterOutcomes(r)
  const present = SUMMARY_COLUMNS.filter(([k]) => [...r.results.values()].some((s) => s.step.kind === k))
  const lines: string[] = []
  const failed = outcomes.filter((o) => o.status !== 'ok')
  const unchanged = r.changes && r.config.clusters.every((c) => r.changes!.get(c.name) === 0)
  const state =
    r.config.mode === 'uninstall'
      ? failed.length
        ? '❌ not fully removed'
        : '✅ removed'
      : failed.length
        ? '❌ incomplete'
        : unchanged
          ? '✅ ready (unchanged)'
          : '✅ ready'
  lines.push(`## Istio multi-cluster mesh \`${r.config.meshId}\` — ${state}`, '')
  lines.push(
    `Istio ${r.istioVersion} · ${r.config.clusters.length} clusters · ${formatSeconds(r.durationMs)}${r.config.revision ? ` · revision \`${r.config.revision}\`` : ''}`,
    ''
  )
  // On failure, the cause and its fix come first: that is what the reader came for.
  lines.push(...renderWhatWentWrong(r.results.values()))
  const changeCell = (name: string) =>
    r.changes ? (r.changes.get(name) === 0 ? ' unchanged |' : ` ${r.changes.get(name) ?? '?'} object(s) changed |`) : ''
  lines.push(`| Cluster | Status | Network | Gateway address | Time |${r.changes ? ' Changes |' : ''}`)
  lines.push(`|---|---|---|---|---|${r.changes ? '---|' : ''}`)
  for (const o of outcomes)
    lines.push(
      `| ${o.name} | ${ICON[o.status]} ${o.status} | ${o.network} | ${o.gatewayAddress ? `\`${o.gatewayAddress}\`` : '—'} | ${clusterTime(r, o.name)} |${changeCell(o.name)}`
    )
  lines.push('', '<details><summary>Step durations per cluster</summary>', '')
  lines.push(`| Cluster | ${present.map(([, t]) => t).join(' | ')} | Result |`)
  lines.push(`|---|${present.map(() => '---').join('|')}|---|`)
  for (const o of outcomes) {
    const cells = present.map(([k]) => {
      const s = r.results.get(stepId(o.name, k))
      return s
        ? `${ICON[s.status]} ${s.status === 'ok' || s.status === 'failed' ? formatSeconds(s.durationMs) : s.status}`
        : '—'
    })
    lines.push(`| ${o.name} | ${cells.join(' | ')} | ${ICON[o.status]} ${o.status} |`)
  }
  lines.push('', '</details>')
  if (r.config.mode !== 'uninstall') lines.push('', '```mermaid', ...renderMermaid(r, outcomes), '```', '')
  if (r.upgrades?.length) {
    lines.push('**Upgrades**', '')
    for (const u of r.upgrades)
      lines.push(
        `- ${u.cluster}: ${u.kind === 'canary' ? 'canary (beside the old revision)' : u.kind} ${u.from} → ${u.to}`
      )
    lines.push('')
  }
  if (r.nextSteps?.length)
    lines.push(
      '> [!IMPORTANT]',
      '> The canary control plane is installed. Still to do:',
      ...r.nextSteps.map((n, i) => `> ${i + 1}. \`${n}\``),
      ''
    )
  if (r.staleSecrets?.size) {
    lines.push('> [!NOTE]', '> Remote secrets of clusters no longer in `clusters` (set `prune: true` to delete them):')
    for (const [c, list] of r.staleSecrets) lines.push(`> - ${c}: ${list.map((x) => `\`${x.name}\``).join(', ')}`)
    lines.push('')
  }
  if (r.intermediates?.size) lines.push(...renderIntermediates(r), '')
  if (r.remoteStatus.size) {
    const names = r.config.clusters.map((c) => c.name)
    lines.push('**`istioctl remote-clusters`** (row: the istiod that watches; column: the cluster it watches)', '')
    lines.push(`| istiod in ↓ / sees → | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`)
    for (const a of names) {
      const seen = r.remoteStatus.get(a)
      lines.push(`| ${a} | ${names.map((b) => (a === b ? '·' : (seen?.get(b) ?? '—'))).join(' | ')} |`)
    }
    lines.push('')
  }
  if (r.retiredImages)
    lines.push(...retiredImagesNote(r.config.hub, r.retiredImages, 'install renders the control plane and gateways'))
  if (r.config.ca.mode === 'none')
    lines.push(
      '> [!WARNING]',
      "> `ca: none`: the action did not set up a shared root of trust. Cross-cluster mTLS needs every cluster's `cacerts` to chain to one root (otherwise `CERTIFICATE_VERIFY_FAILED`).",
      ''
    )
  const unclaimed = unclaimedLoadBalancers(r.results)
  if (unclaimed.length)
    lines.push(
      '> [!WARNING]',
      `> Left behind: the ${EASTWEST_GATEWAY} Service (a billed load balancer) this run created early, before the gateway install that would own it. Re-run the action, or delete it:`,
      ...unclaimed.map((c) => `> - \`${deleteGatewayServiceCommand(c)}\``),
      ''
    )
  // Load balancers this run created early and removed again (its gateway install did not succeed).
  const removed = [...r.results.values()].filter(
    (s) => s.step.kind === 'remove-gateway-service' && s.status === 'ok' && s.value?.startsWith('removed')
  )
  if (removed.length) lines.push('> [!NOTE]', ...removed.map((s) => `> ${s.step.cluster}: ${s.value}`), '')
  if (r.diagnosticsPath)
    lines.push(
      `Diagnostics (istio-system, istiod's log, remote-clusters, the plan): \`${r.diagnosticsPath}\`; the log says whether it was uploaded as a workflow artifact, and its name.`,
      ''
    )
  return lines.join('\n')
}

/** A cluster's wall time: from its first step's start to its last step's end (its steps overlap). */
function clusterTime(r: RunReport, cluster: string): string {
  const ran = [...r.results.values()].filter((s) => s.step.cluster === cluster && s.startedAt !== undefined)
  if (!ran.length) return '—'
  const start = Math.min(...ran.map((s) => s.startedAt!))
  return formatSeconds(Math.max(...ran.map((s) => s.startedAt! + s.durationMs)) - start)
}

/** A run that failed before its steps (bad input, unreadable cluster, download): the summary still says why. */
export async function writeFailureSummary(message: string, diagnosticsPath?: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  const fix = knownFix(message)
  const lines = [
    '## Istio multi-cluster mesh — ❌ failed before any cluster was changed',
    '',
    '### What went wrong',
    ''
  ]
  lines.push(`**${message.split('\n')[0]}**`, '')
  if (fix) lines.push(`**Fix:** ${fix}`, '')
  lines.push('```', message, '```', '')
  if (diagnosticsPath) lines.push(`Diagnostics: \`${diagnosticsPath}\``, '')
  await core.summary.addRaw(lines.join('\n'), true).write()
}

export async function writeSummary(r: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(r), true).write()
}
