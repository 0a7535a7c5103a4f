import * as fs from 'node:fs'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Config, parseConfig } from './config/index.js'
import { InputError, StepError } from './errors.js'
import { formatSeconds } from './duration.js'
import { terminateAll } from './exec.js'
import { installIstioctl } from './istioctl/download.js'
import { resolveVersion } from './istioctl/releases.js'
import { parseSemver } from './istioctl/version.js'
import { serializeKubeconfig } from './kube/kubeconfig.js'
import { UpgradeNote, canaryNextSteps, checkUpgrades, staleRemoteSecrets } from './preflight.js'
import { describePlan } from './steps/describe.js'
import { buildInstallPlan } from './steps/install-plan.js'
import { Step } from './steps/step.js'
import { buildUninstallPlan } from './steps/uninstall-plan.js'
import { RunReport, publishOutputs, writeFailureSummary, writePlanSummary, writeSummary } from './report.js'
import { StepExecutor, StepResult, runPlan } from './runner.js'
import { ClusterState, changedObjects, readClusterState } from './state.js'
import { retiredImageNote, retiredImageWarnings } from './registries.js'
import { redact, registerSecret } from './secrets.js'
import { RunState, stepExecutor } from './steps/executor.js'
import { ClusterTools, CommandError } from './tools.js'
import { TrustManager } from './trust/trust.js'
import { createWorkdir, removeWorkdir, writePrivateFile } from './workdir.js'

/** config → istioctl → plan → run → outputs. */
export async function run(): Promise<void> {
  const started = Date.now()
  const cancel = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) return
    cancel.abort()
    const n = terminateAll()
    core.error(`Received ${signal}: stopping ${n} running command(s); no new step starts.`)
    // Give the children a moment to exit, then leave; post removes the credentials either way.
    setTimeout(() => process.exit(1), 5000).unref()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  let workdir: string | undefined
  try {
    const config = readConfig()
    for (const s of config.secrets) registerSecret(s)
    for (const w of networkWarnings(config)) core.warning(w)

    workdir = createWorkdir()
    const kubeconfigPath = writePrivateFile(workdir, 'kubeconfig', serializeKubeconfig(config.kubeconfig))
    if (config.exportKubeconfig) core.exportVariable('KUBECONFIG', kubeconfigPath)
    // kubectl caches discovery per API server; keep that cache with the credentials, not in $HOME.
    const env = { ...process.env, KUBECACHEDIR: path.join(workdir, 'kube-cache') }

    const apiUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
    const version = await resolveVersion(config.istioVersion, apiUrl, config.githubToken)
    core.setOutput('istio-version', version)
    const ctx: ModeContext = { config, version, apiUrl, kubeconfigPath, env, started, signal: cancel.signal }
    if (config.mode === 'plan') await planMode(ctx)
    else if (config.mode === 'uninstall') await uninstallMode(ctx)
    else await installMode(ctx)
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e))
    core.setFailed(message)
    await writeFailureSummary(message).catch(() => undefined)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    // The kubeconfig stays for later steps only when exported; post removes it in every case.
    if (workdir && !readExport()) removeWorkdirKeepingState(workdir)
  }
}

interface ModeContext {
  config: Config
  version: string
  apiUrl: string
  kubeconfigPath: string
  env: NodeJS.ProcessEnv
  started: number
  signal: AbortSignal
}

/** Downloads (or finds in the tool cache) istioctl and puts it on the PATH for later steps. */
async function setupIstioctl(ctx: ModeContext): Promise<string> {
  const istioctl = await installIstioctl(ctx.version, ctx.config.downloadBaseUrl, { apiUrl: ctx.apiUrl, token: ctx.config.githubToken })
  core.addPath(path.dirname(istioctl.path))
  core.setOutput('istioctl-path', istioctl.path)
  core.info(`istioctl ${ctx.version}: ${istioctl.cached ? 'from the tool cache' : `downloaded from ${ctx.config.downloadBaseUrl}`} (${istioctl.path})`)
  return istioctl.path
}

/** Every cluster's istio-system, read concurrently: the only truth about the mesh (no state file). */
function readStates(tools: ClusterTools, config: Config, title: string): Promise<Map<string, ClusterState>> {
  return logged(title, async (log) => {
    const settled = await Promise.allSettled(config.clusters.map((c) => readClusterState(tools, c.name, log)))
    const failed = settled.flatMap((s, i) => (s.status === 'rejected' ? [[config.clusters[i].name, s.reason] as const] : []))
    if (failed.length) {
      const [cluster, e] = failed[0]
      const others =
        failed.length > 1
          ? ` (reading ${failed
              .slice(1)
              .map(([c]) => c)
              .join(', ')} failed too)`
          : ''
      if (e instanceof CommandError) throw new StepError(cluster, `read istio-system${others}`, e.message, e.command, e.stderrTail)
      throw new StepError(cluster, `read istio-system${others}`, redact(e instanceof Error ? e.message : String(e)))
    }
    return new Map(settled.map((s, i) => [config.clusters[i].name, (s as PromiseFulfilledResult<ClusterState>).value]))
  })
}

/** mode: install — converge every cluster on the mesh; grows it, upgrades it, prunes it when asked. */
async function installMode(ctx: ModeContext): Promise<void> {
  const { config, version } = ctx
  const readTools = new ClusterTools(ctx.kubeconfigPath, '', undefined, ctx.env)
  // The download and the reads do not depend on each other.
  const [istioctlPath, before] = await Promise.all([setupIstioctl(ctx), readStates(readTools, config, "mesh · read each cluster's istio-system")])
  for (const w of retiredImageWarnings(config, before)) core.warning(w)
  const semver = parseSemver(version)!
  const upgrades = checkUpgrades(config, semver, before)
  const stale = staleRemoteSecrets(config, before)
  const tools = new ClusterTools(ctx.kubeconfigPath, istioctlPath, undefined, ctx.env)
  const trust = config.ca.mode === 'none' ? undefined : new TrustManager(config, tools)
  await trust?.prepare(before)

  const steps = buildInstallPlan(config, semver, stale)
  const state: RunState = { remoteSecrets: new Map(), remoteStatus: new Map() }
  const results = await runSteps(ctx, steps, stepExecutor({ config, tools, trust, state }))
  const after = ctx.signal.aborted ? undefined : await readStates(tools, config, 'mesh · read each cluster again (what changed)').catch(() => undefined)
  const report: RunReport = {
    ...baseReport(ctx, istioctlPath, results),
    remoteStatus: state.remoteStatus,
    rootCertPem: trust?.rootCertPem,
    intermediates: trust?.intermediates,
    upgrades,
    nextSteps: canaryNextSteps(config, upgrades),
    staleSecrets: config.prune ? new Map() : stale,
    retiredImages: retiredImageNote(before, after),
    changes:
      after && new Map(config.clusters.map((c) => [c.name, changedObjects(before.get(c.name)!, after.get(c.name)!).length + appliedChanges(results, c.name)]))
  }
  if (after)
    for (const c of config.clusters)
      core.info(`${c.name}: changed in istio-system: ${changedObjects(before.get(c.name)!, after.get(c.name)!).join(', ') || 'nothing'}`)
  await finish(ctx, report, `Mesh ${config.meshId} ready on ${config.clusters.length} clusters`)
}

/** mode: plan — read every cluster and say what install would do. Writes nothing anywhere. */
async function planMode(ctx: ModeContext): Promise<void> {
  const { config, version } = ctx
  const states = await readStates(new ClusterTools(ctx.kubeconfigPath, '', undefined, ctx.env), config, "mesh · read each cluster's istio-system")
  for (const w of retiredImageWarnings(config, states)) core.warning(w)
  const semver = parseSemver(version)!
  let upgrades: UpgradeNote[] = []
  let blocker: string | undefined
  try {
    upgrades = checkUpgrades(config, semver, states)
  } catch (e) {
    blocker = (e as Error).message
  }
  const plan = describePlan(config, version, buildInstallPlan(config, semver, staleRemoteSecrets(config, states)), states, upgrades)
  const output = { mode: 'plan', istioVersion: version, meshId: config.meshId, blocker: blocker ?? null, clusters: plan }
  core.setOutput('plan', JSON.stringify(output))
  for (const c of plan) {
    core.startGroup(`${c.cluster}: what install would do`)
    for (const a of c.actions) core.info(`${a.title}: ${a.does}`)
    core.endGroup()
  }
  await writePlanSummary(config, version, plan, blocker, retiredImageNote(states))
  if (blocker) core.setFailed(`install would fail: ${blocker}`)
}

/** mode: uninstall — remote secrets, Istio (all revisions) and istio-system, in every cluster; clean clusters are fine. */
async function uninstallMode(ctx: ModeContext): Promise<void> {
  const istioctlPath = await setupIstioctl(ctx)
  const tools = new ClusterTools(ctx.kubeconfigPath, istioctlPath, undefined, ctx.env)
  const state: RunState = { remoteSecrets: new Map(), remoteStatus: new Map() }
  const results = await runSteps(ctx, buildUninstallPlan(ctx.config), stepExecutor({ config: ctx.config, tools, state }))
  await finish(
    ctx,
    { ...baseReport(ctx, istioctlPath, results), remoteStatus: new Map() },
    `Mesh ${ctx.config.meshId} removed from ${ctx.config.clusters.length} clusters`
  )
}

function runSteps(ctx: ModeContext, steps: Step[], execute: StepExecutor): Promise<Map<string, StepResult>> {
  return runPlan(steps, {
    maxParallel: ctx.config.maxParallel,
    execute,
    events: { started: (s) => core.info(`▸ ${s.cluster} · ${s.title} [${s.id}]`), finished: printStep },
    signal: ctx.signal
  })
}

function baseReport(ctx: ModeContext, istioctlPath: string, results: Map<string, StepResult>): Omit<RunReport, 'remoteStatus'> {
  return { config: ctx.config, istioVersion: ctx.version, istioctlPath, results, durationMs: Date.now() - ctx.started }
}

/** kubectl apply says what it did; count the objects it created or configured in one cluster. */
function appliedChanges(results: Map<string, StepResult>, cluster: string): number {
  return [...results.values()].filter((r) => r.step.cluster === cluster).reduce((n, r) => n + r.log.filter((l) => / (created|configured)$/.test(l)).length, 0)
}

async function finish(ctx: ModeContext, report: RunReport, done: string): Promise<void> {
  report.durationMs = Date.now() - ctx.started
  publishOutputs(report)
  await writeSummary(report)
  const failures = [...report.results.values()].filter((r) => r.status === 'failed')
  if (ctx.signal.aborted) core.setFailed('Cancelled: the mesh is incomplete; see the summary for what each cluster finished.')
  else if (failures.length) core.setFailed(failureMessage(failures, report.results))
  else core.info(`${done} in ${formatSeconds(report.durationMs)}.`)
}

function readConfig(): Config {
  try {
    return parseConfig({ input: (name) => core.getInput(name), env: process.env, readFile: (f) => fs.readFileSync(f, 'utf8') })
  } catch (e) {
    if (e instanceof InputError) throw new Error(e.message)
    throw e
  }
}

function readExport(): boolean {
  return core.getInput('export-kubeconfig').trim().toLowerCase() === 'true'
}

function removeWorkdirKeepingState(dir: string): void {
  try {
    removeWorkdir(dir)
  } catch (e) {
    core.warning(`could not remove ${dir} now (post will retry): ${String(e)}`)
  }
}

function networkWarnings(config: Config): string[] {
  const byNetwork = new Map<string, string[]>()
  for (const c of config.clusters) byNetwork.set(c.network, [...(byNetwork.get(c.network) ?? []), c.name])
  return [...byNetwork]
    .filter(([, names]) => names.length > 1)
    .map(
      ([n, names]) =>
        `clusters ${names.join(', ')} share network "${n}": Istio then sends traffic straight to pod IPs between them, which only works if their pods can reach each other (same network). Give each cluster its own network otherwise.`
    )
}

/** Concurrent steps cannot share log groups: one progress line when a step starts, its whole output as one group when it ends. */
function printStep(r: StepResult): void {
  const label = `${r.step.cluster} · ${r.step.title}`
  if (r.status === 'skipped' || r.status === 'cancelled') {
    core.info(`${r.status === 'skipped' ? '⏭' : '🚫'} ${label}: ${r.status === 'skipped' ? r.log[0] : 'cancelled'}`)
    return
  }
  core.startGroup(`${r.status === 'ok' ? '✔' : '✖'} ${label} (${formatSeconds(r.durationMs)})${r.value ? `: ${r.value}` : ''}`)
  for (const line of r.log) core.info(line)
  if (r.error) core.info(`✖ ${r.error.message}`)
  core.endGroup()
  if (r.error) core.error(r.error.message, { title: `${r.step.cluster} · ${r.step.title}` })
}

async function logged<T>(title: string, fn: (log: (line: string) => void) => Promise<T>): Promise<T> {
  const lines: string[] = []
  const t0 = Date.now()
  try {
    return await fn((l) => lines.push(l))
  } finally {
    core.startGroup(`${title} (${formatSeconds(Date.now() - t0)})`)
    for (const l of lines) core.info(l)
    core.endGroup()
  }
}

function failureMessage(failures: StepResult[], results: Map<string, StepResult>): string {
  const skipped = [...results.values()].filter((r) => r.status === 'skipped').length
  const first = failures[0].error!.message
  const more =
    failures.length > 1
      ? `\n(${failures.length - 1} more failed step(s): ${failures
          .slice(1)
          .map((f) => `${f.step.cluster} · ${f.step.title}`)
          .join('; ')})`
      : ''
  return `${first}${more}${skipped ? `\n${skipped} dependent step(s) were skipped; the job summary shows each cluster's state.` : ''}`
}
