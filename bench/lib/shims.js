// The tools a measurement counts: kubectl first on the PATH and istioctl in a warm tool cache are bash shims that
// log each command (and with --trace its end and CPU) before running the real binary.
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { packageIstioctl } from '../../test/sim/releases.js'
import { VERSION } from './clusters.js'

/**
 * A bash wrapper that appends "<µs since epoch> <tool> <argv>" to $BENCH_LOG, then execs the real binary. With
 * --trace it runs the tool as its child instead (passing stdin and SIGTERM on) and also logs its end and CPU time:
 * that costs a fork more per command, so traced runs are for finding where the time goes, not for the table.
 * @param {string} file
 * @param {string} real
 * @param {'kubectl' | 'istioctl'} tool
 * @param {boolean} trace
 */
function writeShim(file, real, tool, trace) {
  const text = trace
    ? `#!/bin/bash
start=\${EPOCHREALTIME/./}
${JSON.stringify(real)} "$@" <&0 &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
wait $child; rc=$?
wait $child 2>/dev/null
times >"$BENCH_LOG.$$"
{ read -r _; read -r cu cs; } <"$BENCH_LOG.$$"
rm -f "$BENCH_LOG.$$"
cu=\${cu#0m}; cs=\${cs#0m}
printf '%s ${tool} %s\\n' "$start" "$*" >>"$BENCH_LOG"
printf '%s %s ${tool} %s %s %s\\n' "$start" "\${EPOCHREALTIME/./}" "\${cu%s}" "\${cs%s}" "$*" >>"$BENCH_LOG.cpu"
exit $rc
`
    : `#!/bin/bash\nprintf '%s ${tool} %s\\n' "\${EPOCHREALTIME/./}" "$*" >>"$BENCH_LOG"\nexec ${JSON.stringify(real)} "$@"\n`
  fs.writeFileSync(file, text, { mode: 0o755 })
}

/** @typedef {Awaited<ReturnType<typeof prepareTools>>} Tools */

/**
 * The shim folder for the PATH, and a warm tool cache whose istioctl is a shim in front of the simulated istioctl
 * exactly as the release archive holds it.
 * @param {string} work
 * @param {boolean} trace
 */
export async function prepareTools(work, trace) {
  const kubectl = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()
  const realKubectl = fs.realpathSync(kubectl)
  const binDir = path.join(work, 'shim-bin')
  fs.mkdirSync(binDir, { recursive: true })
  writeShim(path.join(binDir, 'kubectl'), realKubectl, 'kubectl', trace)

  const { archivePath } = await packageIstioctl(VERSION, { outDir: path.join(work, 'release') })
  const realDir = path.join(work, 'istioctl-real')
  fs.mkdirSync(realDir, { recursive: true })
  execFileSync('tar', ['xzf', archivePath, '-C', realDir])
  const realIstioctl = path.join(realDir, 'istioctl')

  // A warm tool cache as @actions/tool-cache leaves it (<root>/istioctl/<v>/<arch> + .complete), holding the shim:
  // the action runs istioctl by this path, and the baseline runs the same file.
  const toolCache = path.join(work, 'toolcache')
  const cached = path.join(toolCache, 'istioctl', VERSION, process.arch)
  fs.mkdirSync(cached, { recursive: true })
  fs.writeFileSync(`${cached}.complete`, '')
  // istioctl is always traced: its CPU per call is a figure of every run (a few calls per cluster, so the extra fork
  // costs little); kubectl only with --trace.
  writeShim(path.join(cached, 'istioctl'), realIstioctl, 'istioctl', true)
  return { binDir, toolCache, istioctl: path.join(cached, 'istioctl'), realKubectl, realIstioctl }
}

/**
 * The cluster a command was for: its --context.
 * @param {string[]} args
 */
function contextOf(args) {
  const at = args.findIndex((a) => a === '--context' || a.startsWith('--context='))
  return at < 0 ? undefined : args[at].includes('=') ? args[at].split('=')[1] : args[at + 1]
}

/** @typedef {{ at: number, tool: string, cluster: string | undefined, args: string[] }} ShimRecord at: ms since the epoch */

/**
 * Every command the shims logged to `file`, in order.
 * @param {string} file
 * @returns {ShimRecord[]}
 */
export function readShimLog(file) {
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [us, tool, ...args] = line.split(' ')
      return { at: Number(us) / 1000, tool, cluster: contextOf(args), args }
    })
}

/** @typedef {{ tool: string, cluster: string | undefined, what: string, startMs: number, endMs: number, cpuMs: number }} TracedCommand */

/**
 * --trace: each command's start and end (ms from t0), CPU (ms) and what it was.
 * @param {string} file
 * @param {number} t0
 * @returns {TracedCommand[]}
 */
export function readCpuLog(file, t0) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, end, tool, user, sys, ...args] = line.split(' ')
      const cluster = contextOf(args)
      return { tool, cluster, what: commandWords(args), ...times(start, end, user, sys, t0) }
    })
}

/** Flags of the tools' command lines that take a value as the next word. */
const VALUE_FLAGS = new Set([
  '--context',
  '--kubeconfig',
  '-f',
  '-n',
  '-o',
  '--readiness-timeout',
  '--name',
  '--server'
])

/**
 * What a command was, in its first two words: the verb and what it acts on, without flags and their values, paths
 * or URLs (`install`, `get services`, `create-remote-secret`).
 * @param {string[]} args
 */
export function commandWords(args) {
  return args
    .filter((_, i) => !(i > 0 && VALUE_FLAGS.has(args[i - 1])))
    .filter((a) => !a.startsWith('-') && !a.startsWith('/') && !a.includes('://'))
    .slice(0, 2)
    .join(' ')
}

/** @param {string} start @param {string} end @param {string} user @param {string} sys @param {number} t0 */
function times(start, end, user, sys, t0) {
  return {
    startMs: Math.round(Number(start) / 1000 - t0),
    endMs: Math.round(Number(end) / 1000 - t0),
    cpuMs: Math.round((Number(user) + Number(sys)) * 1000)
  }
}

/**
 * Processes per cluster and tool.
 * @param {ShimRecord[]} shims
 * @param {string[]} names
 * @returns {Record<string, { kubectl: number, istioctl: number }>}
 */
export function perCluster(shims, names) {
  /** @param {string} name @param {string} tool */
  const count = (name, tool) => shims.filter((s) => s.cluster === name && s.tool === tool).length
  return Object.fromEntries(
    names.map((name) => [name, { kubectl: count(name, 'kubectl'), istioctl: count(name, 'istioctl') }])
  )
}
