import * as core from '@actions/core'
import { PROBE_STATE, removeLeftoverProbes } from './probes/leftovers.js'
import { WORKDIR_STATE, removeWorkdir } from './workdir.js'

/**
 * Runs after the job's steps, also after a failure or a cancel (post-if: always()): deletes probe namespaces a cancel
 * left in the clusters, then removes every credential file.
 */
try {
  const dir = core.getState(WORKDIR_STATE)
  if (dir) for (const line of await removeLeftoverProbes(dir, core.getState(PROBE_STATE))) core.info(line)
  if (dir && removeWorkdir(dir)) core.info(`Removed ${dir} (kubeconfig, caches).`)
  else core.info('Nothing to remove.')
} catch (e) {
  core.warning(`Could not remove the action's credential files: ${e instanceof Error ? e.message : String(e)}`)
}
