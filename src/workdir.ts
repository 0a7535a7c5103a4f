import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as core from '@actions/core'

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

/** Removes the folder; only folders this action created (under RUNNER_TEMP or the OS temp dir, with its prefix). */
export function removeWorkdir(dir: string | undefined): boolean {
  if (!dir || !path.basename(dir).startsWith('istio-multicluster-')) return false
  fs.rmSync(dir, { recursive: true, force: true })
  return true
}
