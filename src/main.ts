import * as fs from 'node:fs'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Config, parseConfig } from './config.js'
import { InputError } from './errors.js'
import { formatSeconds } from './duration.js'
import { terminateAll } from './exec.js'
import { installIstioctl } from './istioctl/install.js'
import { resolveVersion } from './istioctl/releases.js'
import { parseSemver } from './istioctl/version.js'
import { serializeKubeconfig } from './kube/kubeconfig.js'
import { buildInstallPlan } from './plan.js'
import { RunReport, publishOutputs, writeSummary } from './report.js'
import { StepResult, runPlan } from './runner.js'
import { redact, registerSecret } from './secrets.js'
import { RunState, stepExecutor } from './steps.js'
import { ClusterTools } from './tools.js'
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

    const apiUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
    const version = await resolveVersion(config.istioVersion, apiUrl, config.githubToken)
    const istioctl = await installIstioctl(version, config.downloadBaseUrl, { apiUrl, token: config.githubToken })
    core.addPath(path.dirname(istioctl.path))
    core.setOutput('istio-version', version)
    core.setOutput('istioctl-path', istioctl.path)
    core.info(`istioctl ${version}: ${istioctl.cached ? 'from the tool cache' : `downloaded from ${config.downloadBaseUrl}`} (${istioctl.path})`)

    // kubectl caches discovery per API server; keep that cache with the credentials, not in $HOME.
    const tools = new ClusterTools(kubeconfigPath, istioctl.path, undefined, { ...process.env, KUBECACHEDIR: path.join(workdir, 'kube-cache') })
    const trust = config.ca.mode === 'none' ? undefined : new TrustManager(config, tools)
    if (trust) await logged('mesh · root of trust (read cacerts in every cluster)', (log) => trust.prepare(log))

    const steps = buildInstallPlan(config, parseSemver(version)!)
    const state: RunState = { remoteSecrets: new Map(), remoteStatus: new Map() }
    const results = await runPlan(steps, {
      maxParallel: config.maxParallel,
      execute: stepExecutor({ config, tools, trust, state }),
      events: { started: (s) => core.info(`▸ ${s.cluster} · ${s.title}`), finished: printStep },
      signal: cancel.signal
    })

    const report: RunReport = { config, istioVersion: version, istioctlPath: istioctl.path, results, remoteStatus: state.remoteStatus, rootCertPem: trust?.rootCertPem, durationMs: Date.now() - started }
    publishOutputs(report)
    await writeSummary(report)
    const failures = [...results.values()].filter((r) => r.status === 'failed')
    if (cancel.signal.aborted) core.setFailed('Cancelled: the mesh is incomplete; see the summary for what each cluster finished.')
    else if (failures.length) core.setFailed(failureMessage(failures, results))
    else core.info(`Mesh ${config.meshId} ready on ${config.clusters.length} clusters in ${formatSeconds(Date.now() - started)}.`)
  } catch (e) {
    core.setFailed(redact(e instanceof Error ? e.message : String(e)))
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    // The kubeconfig stays for later steps only when exported; post removes it in every case.
    if (workdir && !readExport()) removeWorkdirKeepingState(workdir)
  }
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
    .map(([n, names]) => `clusters ${names.join(', ')} share network "${n}": Istio then sends traffic straight to pod IPs between them, which only works if their pods can reach each other (same network). Give each cluster its own network otherwise.`)
}

/** Concurrent steps cannot share log groups: one progress line when a step starts, its whole output as one group when it ends. */
function printStep(r: StepResult): void {
  const label = `${r.step.cluster} · ${r.step.title}`
  if (r.status === 'skipped' || r.status === 'cancelled') {
    core.info(`${r.status === 'skipped' ? '⏭' : '🚫'} ${label}: ${r.log.join(' ')}`)
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
  const more = failures.length > 1 ? `\n(${failures.length - 1} more failed step(s): ${failures.slice(1).map((f) => `${f.step.cluster} · ${f.step.title}`).join('; ')})` : ''
  return `${first}${more}${skipped ? `\n${skipped} dependent step(s) were skipped; the job summary shows each cluster's state.` : ''}`
}
