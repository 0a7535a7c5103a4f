import * as core from '@actions/core'
import { WORKDIR_STATE, removeWorkdir } from './workdir.js'

/** Runs after the job's steps, also after a failure or a cancel (post-if: always()): removes every credential file. */
try {
  const dir = core.getState(WORKDIR_STATE)
  if (dir && removeWorkdir(dir)) core.info(`Removed ${dir} (kubeconfig, caches).`)
  else core.info('Nothing to remove.')
} catch (e) {
  core.warning(`Could not remove the action's credential files: ${e instanceof Error ? e.message : String(e)}`)
}
