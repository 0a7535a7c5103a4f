import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'
import { terminateAll, whenIdle } from './exec.js'

/** State key under which main tells post what to remove. */
export const WORKDIR_STATE = 'workdir'

/**
 * A private folder under RUNNER_TEMP for everything that holds a credential. Its path is saved for `post` before
 * anything is written, so even a crash or a cancel right after leaves nothing behind.
 */
export function createWorkdir(): string {
  const base = process.env.RUNNER_TEMP || os.tmpdir()
  fs.mkdirSync(base, { recursive: true })
  const dir = fs.mkdtempSync(path.join(base, 'istio-multicluster-'))
  fs.chmodSync(dir, 0o700)
  core.saveState(WORKDIR_STATE, dir)
  return dir
}

/** Writes a file only the runner's user can read (0600), creating it with that mode so it is never briefly wider. */
export function writePrivateFile(dir: string, name: string, content: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, content, { mode: 0o600 })
  fs.chmodSync(file, 0o600)
  return file
}

/**
 * Removes the folder; only folders this action created (under RUNNER_TEMP or the OS temp dir, with its prefix).
 * Commands still running (the other clusters' reads when one cluster failed early) read the kubeconfig and write
 * kubectl's cache in it: they are stopped first, and since a dying kubectl may still write once and so create the
 * folder again (mode 0750), it is removed once more when the last of them has exited (before the process ends).
 */
export function removeWorkdir(dir: string | undefined): boolean {
  if (!dir || !path.basename(dir).startsWith('istio-multicluster-')) return false
  const stopped = terminateAll()
  fs.rmSync(dir, { recursive: true, force: true })
  if (stopped > 0)
    void whenIdle().then(() => {
      try {
        fs.rmSync(dir, { recursive: true, force: true })
      } catch {
        // post removes it
      }
    })
  return true
}
