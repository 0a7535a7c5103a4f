import * as fs from 'node:fs'
import * as path from 'node:path'
import * as core from '@actions/core'
import { Config, Mode, parseConfig } from './config/index.js'
import { ambientNetworkWarnings, dataPlaneVersionProblem } from './config/data-plane.js'
import { InputError } from './errors.js'
import { terminateAll } from './exec.js'
import { resolveVersion } from './istioctl/releases.js'
import { fileCache, releasesCacheFile } from './istioctl/releases-cache.js'
import { serializeKubeconfig } from './kube/kubeconfig.js'
import { ModeContext } from './modes/context.js'
import { checkMode } from './modes/check.js'
import { installMode } from './modes/install.js'
import { planMode } from './modes/plan.js'
import { uninstallMode } from './modes/uninstall.js'
import { writeFailureSummary } from './report.js'
import { writeDiagnostics } from './diagnostics/bundle.js'
import { ClusterTools } from './tools.js'
import { redact, registerSecret } from './secrets.js'
import { probeNamespacesLeft } from './probes/leftovers.js'
import { createWorkdir, removeWorkdir, writePrivateFile } from './workdir.js'

const MODE_RUNS: Record<Mode, (ctx: ModeContext) => Promise<void>> = {
  install: installMode,
  plan: planMode,
  uninstall: uninstallMode,
  check: checkMode
}

/** After SIGINT/SIGTERM the action exits this long after stopping its commands, whether or not they are gone. */
export const EXIT_AFTER_SIGNAL_MS = 5000

/** config → work dir and kubeconfig → Istio version → the mode (src/modes/). Signals stop every command. */
export async function run(): Promise<void> {
  const started = Date.now()
  const cancel = new AbortController()
  const onSignal = (signal: NodeJS.Signals) => {
    if (cancel.signal.aborted) return
    cancel.abort()
    const n = terminateAll()
    core.error(`Received ${signal}: stopping ${n} running command(s); no new step starts.`)
    // Give the children a moment to exit, then leave; post removes the credentials either way.
    setTimeout(() => process.exit(1), EXIT_AFTER_SIGNAL_MS).unref()
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  let workdir: string | undefined
  // Known once parsed and written: a failure after that still gets its diagnostics.
  let ready: { config: Config; kubeconfigPath: string; env: NodeJS.ProcessEnv } | undefined
  try {
    const config = readConfig()
    for (const s of config.secrets) registerSecret(s)
    for (const w of ambientNetworkWarnings(config.dataPlane, config.clusters)) core.warning(w)

    workdir = createWorkdir()
    const kubeconfigPath = writePrivateFile(workdir, 'kubeconfig', serializeKubeconfig(config.kubeconfig))
    if (config.exportKubeconfig) core.exportVariable('KUBECONFIG', kubeconfigPath)
    // kubectl caches discovery per API server; keep that cache with the credentials, not in $HOME.
    const env = { ...process.env, KUBECACHEDIR: path.join(workdir, 'kube-cache') }
    ready = { config, kubeconfigPath, env }

    const apiUrl = process.env.GITHUB_API_URL || 'https://api.github.com'
    const cacheFile = releasesCacheFile()
    const version = await resolveVersion(
      config.istioVersion,
      apiUrl,
      config.githubToken,
      undefined,
      cacheFile ? fileCache(cacheFile) : undefined
    )
    core.setOutput('istio-version', version)
    const tooOld = dataPlaneVersionProblem(config.dataPlane, version)
    if (tooOld) throw new Error(tooOld)
    await MODE_RUNS[config.mode]({ config, version, apiUrl, kubeconfigPath, env, started, signal: cancel.signal })
  } catch (e) {
    const message = redact(e instanceof Error ? e.message : String(e))
    core.setFailed(message)
    // A failure before the steps (a cluster that cannot be read, an upgrade refused): what the clusters show.
    const diagnostics =
      ready && !cancel.signal.aborted
        ? await writeDiagnostics(
            {
              config: ready.config,
              tools: new ClusterTools(ready.kubeconfigPath, '', undefined, ready.env),
              hasIstioctl: false
            },
            true
          )
        : undefined
    await writeFailureSummary(message, diagnostics).catch(() => undefined)
  } finally {
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
    // The kubeconfig stays for later steps only when exported; post removes it in every case.
    // Kept when a cancel left a probe namespace (no command could start any more): post deletes it with that
    // kubeconfig, then removes it. A probe namespace a plain failure could not delete has its Job's TTL and deadline.
    const forPost = cancel.signal.aborted && probeNamespacesLeft()
    if (workdir && !readExport() && !forPost) removeWorkdirKeepingState(workdir)
  }
}

function readConfig(): Config {
  try {
    return parseConfig({
      input: (name) => core.getInput(name),
      env: process.env,
      readFile: (f) => fs.readFileSync(f, 'utf8')
    })
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
