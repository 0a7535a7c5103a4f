import * as core from '@actions/core'
import { Config } from './config/index.js'
import { SUMMARY_COLUMNS, StepKind } from './steps/registry.js'
import { stepId } from './steps/step.js'
import { StepResult, StepStatus } from './runner.js'
import { RemoteStatus } from './verify.js'
import { formatSeconds } from './duration.js'
import { ClusterPlan } from './steps/describe.js'
import { UpgradeNote } from './preflight.js'
import { certValidity } from './trust/chain.js'
import type { TrustOutcome } from './trust/trust.js'
import { RETIREMENT, RetiredImageNote } from './retired-registries.js'

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
  const changeCell = (name: string) =>
    r.changes ? (r.changes.get(name) === 0 ? ' unchanged |' : ` ${r.changes.get(name) ?? '?'} object(s) changed |`) : ''
  lines.push(
    `| Cluster | Network | Gateway address | ${present.map(([, t]) => t).join(' | ')} | Result |${r.changes ? ' Changes |' : ''}`
  )
  lines.push(`|---|---|---|${present.map(() => '---').join('|')}|---|${r.changes ? '---|' : ''}`)
  for (const o of outcomes) {
    const cells = present.map(([k]) => {
      const s = r.results.get(stepId(o.name, k))
      return s
        ? `${ICON[s.status]} ${s.status === 'ok' || s.status === 'failed' ? formatSeconds(s.durationMs) : s.status}`
        : '—'
    })
    lines.push(
      `| ${o.name} | ${o.network} | ${o.gatewayAddress ? `\`${o.gatewayAddress}\`` : '—'} | ${cells.join(' | ')} | ${ICON[o.status]} ${o.status} |${changeCell(o.name)}`
    )
  }
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
  // Load balancers this run created early and removed again (its gateway install did not succeed).
  const removed = [...r.results.values()].filter(
    (s) => s.step.kind === 'remove-gateway-service' && s.status === 'ok' && s.value?.startsWith('removed')
  )
  if (removed.length) lines.push('> [!NOTE]', ...removed.map((s) => `> ${s.step.cluster}: ${s.value}`), '')
  const errors = [...r.results.values()].filter((s) => s.status === 'failed' && s.error)
  if (errors.length) {
    lines.push('### Failures', '')
    for (const e of errors) lines.push('```', e.error!.message, '```', '')
  }
  return lines.join('\n')
}

const INTERMEDIATE_NOTE: Record<TrustOutcome, string> = {
  created: ' (created)',
  kept: '',
  renewed: ' (re-issued)',
  rotated: ' (replaced)',
  checked: ''
}

/** When each cluster's intermediate CA expires: re-issued by a run within 30 days of it (ca: existing fails instead). */
function renderIntermediates(r: RunReport): string[] {
  const root = r.rootCertPem && certValidity(r.rootCertPem)
  const lines = [
    `**Root of trust**${root ? ` (mesh root valid until ${root.notAfter.toISOString().slice(0, 10)})` : ''}`,
    ''
  ]
  for (const [cluster, i] of r.intermediates!)
    lines.push(`- ${cluster}: intermediate CA valid until ${i.notAfter.slice(0, 10)}${INTERMEDIATE_NOTE[i.outcome]}`)
  return lines
}

function renderMermaid(r: RunReport, outcomes: ClusterOutcome[]): string[] {
  const id = (name: string) => `c_${name.replace(/-/g, '_')}`
  const out = ['flowchart LR']
  const networks = [...new Set(outcomes.map((o) => o.network))]
  for (const [i, n] of networks.entries()) {
    out.push(`  subgraph n${i}["network ${n}"]`)
    for (const o of outcomes.filter((x) => x.network === n)) {
      const c = r.config.clusters.find((x) => x.name === o.name)
      const what = c?.role === 'remote' ? `remote of ${c.primary}` : 'istiod'
      const gateway = r.results.has(stepId(o.name, 'eastwest-gateway'))
        ? ` + east-west gateway<br/>${o.gatewayAddress ?? 'no address'}`
        : ''
      out.push(`    ${id(o.name)}["${o.name}<br/>${what}${gateway}"]`)
    }
    out.push('  end')
  }
  const names = outcomes.map((o) => o.name)
  for (const [i, a] of names.entries())
    for (const b of names.slice(i + 1)) {
      // Two remotes exchange nothing: neither has an istiod.
      if ([a, b].every((x) => r.config.clusters.find((c) => c.name === x)?.role === 'remote')) continue
      const ab = r.results.get(stepId(b, 'remote-secrets-in'))?.status === 'ok'
      const ba = r.results.get(stepId(a, 'remote-secrets-in'))?.status === 'ok'
      if (ab && ba) out.push(`  ${id(a)} <-- remote secrets --> ${id(b)}`)
      else if (ab || ba) out.push(`  ${ab ? id(a) : id(b)} -- remote secret --> ${ab ? id(b) : id(a)}`)
      else out.push(`  ${id(a)} -. no remote secrets .- ${id(b)}`)
    }
  return out
}

/** Workloads on retired registries: what install moves, and what keeps its image until its pods restart. */
function retiredImagesNote(hub: string, note: RetiredImageNote, does: string): string[] {
  return [
    '> [!WARNING]',
    `> Istio workloads ran images from ${note.registries.map((r) => `\`${r}\``).join(', ')}, retired in ${RETIREMENT} (the warnings name each); ${does} from \`${hub}\`.`,
    '> Pods do not change their image by themselves: sidecars injected before keep their old image until their pods restart (`kubectl rollout restart deployment/<name> -n <namespace>`), and so do injected gateways:',
    ...(note.restart.length ? note.restart.map((c) => `> - \`${c}\``) : ['> - none found in istio-system']),
    ''
  ]
}

/** mode: plan — what install would do, per cluster, after what each cluster carries now. */
export function renderPlanSummary(
  config: RunReport['config'],
  version: string,
  plan: ClusterPlan[],
  blocker?: string,
  retired?: RetiredImageNote
): string {
  const lines = [
    `## Istio multi-cluster mesh \`${config.meshId}\` — plan for Istio ${version} (nothing was changed)`,
    ''
  ]
  if (blocker) lines.push('> [!CAUTION]', `> install would fail: ${blocker}`, '')
  if (retired)
    lines.push(...retiredImagesNote(config.hub, retired, 'install would render the control plane and gateways'))
  for (const c of plan) {
    const now = c.current
    lines.push(`### ${c.cluster}`, '')
    lines.push(
      `Now: ${now.namespace ? `istio-system (network ${now.network ?? 'unlabelled'})` : 'no istio-system'}; istiod ${now.istiod.join(', ') || 'none'}; gateway ${now.gatewayAddress ?? 'none'}; remote secrets of ${now.remoteSecrets.join(', ') || 'none'}; cacerts ${now.cacerts ? 'present' : 'absent'}.`,
      ''
    )
    lines.push('| Step | Install would |', '|---|---|', ...c.actions.map((a) => `| ${a.title} | ${a.does} |`), '')
  }
  return lines.join('\n')
}

export async function writePlanSummary(
  config: RunReport['config'],
  version: string,
  plan: ClusterPlan[],
  blocker?: string,
  retired?: RetiredImageNote
): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderPlanSummary(config, version, plan, blocker, retired), true).write()
}

/** A run that failed before its steps (bad input, unreadable cluster, download): the summary still says why. */
export async function writeFailureSummary(message: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary
    .addRaw(
      ['## Istio multi-cluster mesh — ❌ failed before any cluster was changed', '', '```', message, '```', ''].join(
        '\n'
      ),
      true
    )
    .write()
}

export async function writeSummary(r: RunReport): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return
  await core.summary.addRaw(renderSummary(r), true).write()
}
