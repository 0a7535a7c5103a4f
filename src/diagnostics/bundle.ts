// When the bundle is written, where, and how it leaves the runner: a folder under RUNNER_TEMP (output
// diagnostics-path) and, on GitHub, a workflow artifact uploaded with @actions/artifact, the official client.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { DefaultArtifactClient } from '@actions/artifact'
import { DiagnosticsMode } from '../config/index.js'
import { logged } from '../log.js'
import { redact } from '../secrets.js'
import { Bundle, DiagnosticsInput, collectDiagnostics } from './collect.js'

// Not the credential folder's prefix (istio-multicluster-): post removes that one, this one stays for later steps.
export const DIAGNOSTICS_PREFIX = 'diagnostics-istio-multicluster-'
/** The upload may not hold the job up for long: the bundle stays in the folder either way. */
export const UPLOAD_TIMEOUT_MS = 120_000

export function wantsDiagnostics(mode: DiagnosticsMode, failed: boolean): boolean {
  return mode === 'always' || (mode === 'on-failure' && failed)
}

/** Collects, writes and uploads the bundle; sets diagnostics-path. Never throws: diagnostics must not fail a run. */
export async function writeDiagnostics(input: DiagnosticsInput, failed: boolean): Promise<string | undefined> {
  if (!wantsDiagnostics(input.config.diagnostics, failed)) return undefined
  try {
    const bundle = await logged('diagnostics · read every cluster', (log) => collectDiagnostics(input, log))
    const dir = writeBundle(bundle)
    core.setOutput('diagnostics-path', dir)
    core.info(`Diagnostics: ${bundle.size} files in ${dir}`)
    await upload(dir, [...bundle.keys()])
    return dir
  } catch (e) {
    core.warning(`Could not write the diagnostics bundle: ${redact(e instanceof Error ? e.message : String(e))}`)
    return undefined
  }
}

/** A new folder under RUNNER_TEMP (the runner empties it after the job); files 0600, as they describe the mesh. */
export function writeBundle(bundle: Bundle): string {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  fs.mkdirSync(base, { recursive: true })
  const dir = fs.mkdtempSync(path.join(base, DIAGNOSTICS_PREFIX))
  for (const [file, text] of bundle) {
    const target = path.join(dir, file)
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, text, { mode: 0o600 })
  }
  return dir
}

/**
 * The runner gives a step ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL (what @actions/artifact's config.ts reads);
 * without them (outside GitHub, a local run) there is nothing to upload to, and the log says so.
 */
async function upload(dir: string, files: string[]): Promise<void> {
  const missing = ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RESULTS_URL'].filter((v) => !process.env[v])
  if (missing.length) {
    core.info(
      `Diagnostics not uploaded as a workflow artifact: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set (not on a GitHub Actions runner); the bundle stays in ${dir}.`
    )
    return
  }
  // Unique in the run (a job may run the action twice: a pre-flight check, then install), and it names the job.
  const name = `${DIAGNOSTICS_PREFIX}${process.env.GITHUB_JOB || 'job'}-${path.basename(dir).slice(DIAGNOSTICS_PREFIX.length)}`
  let timer: NodeJS.Timeout | undefined
  try {
    const uploaded = await Promise.race([
      new DefaultArtifactClient().uploadArtifact(
        name,
        files.map((f) => path.join(dir, f)),
        dir
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${UPLOAD_TIMEOUT_MS / 1000} s`)), UPLOAD_TIMEOUT_MS)
      })
    ])
    core.info(`Diagnostics uploaded as the workflow artifact ${name} (id ${uploaded.id}, ${uploaded.size} bytes).`)
  } catch (e) {
    core.warning(
      `Diagnostics not uploaded as a workflow artifact (${redact(e instanceof Error ? e.message : String(e))}); the bundle stays in ${dir}.`
    )
  } finally {
    clearTimeout(timer)
  }
}
