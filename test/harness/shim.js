// A recording shim in front of the tools the action starts: `kubectl` on the PATH and the simulated `istioctl` in the
// tool cache (the action runs istioctl by its tool-cache path, not through the PATH). Each wrapper writes its argument
// list (NUL-separated) to a file named by its pid, then `exec`s the real binary, which keeps that pid. Tests then know
// every argument list the action used, and which processes to check for being still alive.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { istioctlExecutable } from '../sim/istioctl/build.js'

/**
 * The first executable `name` on a PATH, skipping `skip` (the shim's own folder).
 * @param {string} name
 * @param {string} [pathVar]
 * @param {string} [skip]
 */
export function whichOnPath(name, pathVar = process.env.PATH ?? '', skip) {
  for (const dir of pathVar.split(path.delimiter).filter(Boolean)) {
    if (skip && path.resolve(dir) === path.resolve(skip)) continue
    const p = path.join(dir, name)
    try {
      fs.accessSync(p, fs.constants.X_OK)
      if (fs.statSync(p).isFile()) return p
    } catch {
      // not here
    }
  }
  return undefined
}

const sh = (/** @type {string} */ s) => `'${String(s).replace(/'/g, `'\\''`)}'`

/**
 * A POSIX sh wrapper: record "$@" in <logDir>/<tool>.<pid>, then become `real`. No fork, so the pid stays.
 * @param {string} tool @param {string} real @param {string} logDir
 */
function wrapperScript(tool, real, logDir) {
  return [
    '#!/bin/sh',
    `# Recording shim for ${tool} (test/harness/shim.js): writes its arguments, then execs the real binary.`,
    `f=${sh(logDir)}/${tool}.$$`,
    'while [ -e "$f" ]; do f="$f+"; done',
    `printf '%s\\0' "$@" > "$f"`,
    `exec ${sh(real)} "$@"`,
    ''
  ].join('\n')
}

/**
 * @param {{ pathVar?: string }} [opts]
 * @returns {{ dir: string, binDir: string, logDir: string, path: string, realKubectl: string,
 *   seedIstioctl(toolCache: string, version: string): Promise<string>, records(): Array<{ tool: string, pid: number, argv: string[], startedAt: number }>,
 *   alive(): Array<{ tool: string, pid: number, argv: string[], startedAt: number }>, killAlive(signal?: NodeJS.Signals): void, addTool(name: string, script: string): string, cleanup(): void }}
 */
export function makeShim(opts = {}) {
  const pathVar = opts.pathVar ?? process.env.PATH ?? ''
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shim-'))
  const binDir = path.join(dir, 'bin')
  const logDir = path.join(dir, 'argv')
  fs.mkdirSync(binDir)
  fs.mkdirSync(logDir)
  const realKubectl = whichOnPath('kubectl', pathVar, binDir)
  if (!realKubectl) throw new Error('makeShim: no kubectl on the PATH')
  fs.writeFileSync(path.join(binDir, 'kubectl'), wrapperScript('kubectl', realKubectl, logDir), { mode: 0o755 })

  const records = () =>
    fs
      .readdirSync(logDir)
      .map((f) => {
        const m = /^([^.]+)\.(\d+)\+*$/.exec(f)
        if (!m) return undefined
        const file = path.join(logDir, f)
        const argv = fs.readFileSync(file, 'utf8').split('\0')
        argv.pop() // after the last NUL
        // The wrapper writes the file as it starts: its mtime is when the process started.
        return { tool: m[1], pid: Number(m[2]), argv, startedAt: fs.statSync(file).mtimeMs }
      })
      .filter((r) => r !== undefined)

  return {
    dir,
    binDir,
    logDir,
    realKubectl,
    /** PATH with the shim first: what the action's environment should get. */
    path: [binDir, pathVar].join(path.delimiter),
    /**
     * Puts the simulated istioctl `version` into a tool cache as @actions/tool-cache would have cached it
     * (<toolCache>/istioctl/<V>/<arch>/istioctl plus the `<arch>.complete` marker), with the wrapper in its place
     * and the real binary beside it. The action then finds it there ("from the tool cache") and runs the wrapper.
     */
    async seedIstioctl(toolCache, version) {
      const archDir = path.join(toolCache, 'istioctl', version, process.arch)
      const realDir = path.join(archDir, 'real')
      fs.mkdirSync(realDir, { recursive: true })
      const real = path.join(realDir, 'istioctl')
      fs.writeFileSync(real, await istioctlExecutable(version), { mode: 0o755 })
      fs.writeFileSync(path.join(archDir, 'istioctl'), wrapperScript('istioctl', real, logDir), { mode: 0o755 })
      fs.writeFileSync(`${archDir}.complete`, '')
      return path.join(archDir, 'istioctl')
    },
    /** Every process started through a wrapper so far: tool, pid (the real binary's too, thanks to exec), arguments. */
    records,
    /** Recorded processes that are still running (zombies count as gone). */
    alive() {
      return records().filter((r) => isRunning(r.pid, r.argv))
    },
    /** Ends the recorded processes that still run (only those: each checked by pid and arguments). */
    killAlive(signal = 'SIGKILL') {
      for (const r of records())
        if (isRunning(r.pid, r.argv))
          try {
            process.kill(r.pid, signal)
          } catch {
            /* gone meanwhile */
          }
    },
    /** An extra executable in the shim's bin folder (e.g. a fake `aws` credential plugin). */
    addTool(name, script) {
      const p = path.join(binDir, name)
      fs.writeFileSync(p, script, { mode: 0o755 })
      return p
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * True when the process exists, is not a zombie and (when `argv` is given) still runs with those arguments, so that
 * a pid reused by an unrelated process does not count.
 * @param {number} pid
 * @param {string[]} [argv]
 */
export function isRunning(pid, argv) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The state is the field after the parenthesised command name.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    if (state === 'Z' || state === 'X') return false
    if (!argv) return true
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
    return argv.length === 0 || cmdline.slice(-argv.length).join('\0') === argv.join('\0')
  } catch {
    return false
  }
}
