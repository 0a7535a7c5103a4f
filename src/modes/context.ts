// What every mode is given, and what the modes that run a plan share: istioctl on the PATH, the run, the outputs.
import * as path from 'node:path'
import * as core from '@actions/core'
import { Config } from '../config/index.js'
import { formatSeconds } from '../duration.js'
import { installIstioctl } from '../istioctl/download.js'
import { failureMessage, printStep, printStepStarted } from '../log.js'
import { RunReport, publishOutputs, writeSummary } from '../report.js'
import { StepExecutor, StepResult, runPlan } from '../runner.js'
import { Step } from '../steps/step.js'
import { writeDiagnostics } from '../diagnostics/bundle.js'
import { ClusterTools } from '../tools.js'

export interface ModeContext {
  config: Config
  /** The Istio version this run installs (resolved from istio-version). */
  version: string
  apiUrl: string
  /** The action's own kubeconfig: one context per cluster, named by the cluster. */
  kubeconfigPath: string
  env: NodeJS.ProcessEnv
  started: number
  signal: AbortSignal
}

/** Downloads (or finds in the tool cache) istioctl and puts it on the PATH for later steps. */
export async function setupIstioctl(ctx: ModeContext): Promise<string> {
  const istioctl = await installIstioctl(ctx.version, ctx.config.downloadBaseUrl, {
    apiUrl: ctx.apiUrl,
    token: ctx.config.githubToken
  })
  core.addPath(path.dirname(istioctl.path))
  core.setOutput('istioctl-path', istioctl.path)
  core.info(
    `istioctl ${ctx.version}: ${istioctl.cached ? 'from the tool cache' : `downloaded from ${ctx.config.downloadBaseUrl}`} (${istioctl.path})`
  )
  return istioctl.path
}

/** Runs the plan, printing each step; `onFinished` also hears of every step that ends (after it is printed). */
export function runSteps(
  ctx: ModeContext,
  steps: Step[],
  execute: StepExecutor,
  onFinished?: (result: StepResult) => void
): Promise<Map<string, StepResult>> {
  return runPlan(steps, {
    maxParallel: ctx.config.maxParallel,
    execute,
    events: {
      started: printStepStarted,
      finished: (r) => {
        printStep(r)
        onFinished?.(r)
      }
    },
    signal: ctx.signal
  })
}

export function baseReport(
  ctx: ModeContext,
  istioctlPath: string,
  results: Map<string, StepResult>
): Omit<RunReport, 'remoteStatus'> {
  return { config: ctx.config, istioVersion: ctx.version, istioctlPath, results, durationMs: Date.now() - ctx.started }
}

/**
 * Diagnostics (when asked), outputs and summary, then the run's result: cancelled, failed (the first failure and what
 * it skipped), or `done`. A cancelled run collects no diagnostics: no command may start any more.
 */
export async function finish(ctx: ModeContext, report: RunReport, done: string): Promise<void> {
  const failures = [...report.results.values()].filter((r) => r.status === 'failed')
  if (!ctx.signal.aborted)
    report.diagnosticsPath = await writeDiagnostics(
      {
        config: ctx.config,
        tools: new ClusterTools(ctx.kubeconfigPath, report.istioctlPath, undefined, ctx.env),
        hasIstioctl: true,
        results: report.results,
        probes: report.probes,
        proxyEndpoints: report.proxyEndpoints
      },
      failures.length > 0
    )
  report.durationMs = Date.now() - ctx.started
  publishOutputs(report)
  await writeSummary(report)
  if (ctx.signal.aborted)
    core.setFailed('Cancelled: the mesh is incomplete; see the summary for what each cluster finished.')
  else if (failures.length) core.setFailed(failureMessage(failures, report.results))
  else core.info(`${done} in ${formatSeconds(report.durationMs)}.`)
}
