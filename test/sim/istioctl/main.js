// The simulated istioctl: cobra-like command lookup, flag parsing, dispatch, and cobra's error output.
// Entry points: bin.cjs (bundled into the packaged `istioctl`) and cli.js (run from the source tree).
import { CliError, GoPanic, SilentExit, EXIT_USAGE } from './errors.js'
import { parseFlags, firstPositional } from './flags.js'
import { runInstall } from './install.js'
import { runCreateRemoteSecret } from './remote-secret.js'
import { runRemoteClusters } from './remote-clusters.js'
import { runProxyConfig } from './proxy-config.js'
import { runUninstall } from './uninstall.js'
import { runVersion } from './version.js'

/** @typedef {import('./flags.js').FlagSpec} FlagSpec */
/** @typedef {{ stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} Io */
/**
 * @typedef {object} Command
 * @property {string[]} [aliases]
 * @property {FlagSpec[]} flags
 * @property {(args: string[]) => void} [args] cobra's Args validator
 * @property {(f: Record<string, any>, io: Io) => Promise<void>} run
 * @property {string} short
 */

/** @type {FlagSpec[]} */
const ROOT_FLAGS = [
  { name: 'kubeconfig', short: 'c', type: 'string', default: '' },
  { name: 'context', type: 'string', default: '' },
  { name: 'as', type: 'string', default: '' },
  { name: 'as-uid', type: 'string', default: '' },
  { name: 'as-group', type: 'stringArray', default: [] },
  { name: 'namespace', short: 'n', type: 'string', default: '' },
  { name: 'istioNamespace', short: 'i', type: 'string', default: 'istio-system' },
  { name: 'kubeclient-timeout', type: 'string', default: '15s' },
  { name: 'vklog', type: 'int', default: 0 },
  { name: 'log_output_level', type: 'string', default: '' },
  { name: 'log_as_json', type: 'bool', default: false },
  { name: 'log_caller', type: 'string', default: '' },
  { name: 'log_stacktrace_level', type: 'string', default: '' },
  { name: 'log_target', type: 'stringSlice', default: ['stdout'] },
  { name: 'help', short: 'h', type: 'bool', default: false }
]

/** @type {FlagSpec[]} */
const INSTALL_FLAGS = [
  { name: 'filename', short: 'f', type: 'stringSlice', default: [] },
  { name: 'readiness-timeout', type: 'duration', default: 300000 },
  { name: 'skip-confirmation', short: 'y', type: 'bool', default: false },
  { name: 'force', type: 'bool', default: false },
  { name: 'verify', type: 'bool', default: false },
  { name: 'set', short: 's', type: 'stringArray', default: [] },
  { name: 'charts', type: 'string', default: '' },
  { name: 'manifests', short: 'd', type: 'string', default: '' },
  { name: 'revision', short: 'r', type: 'string', default: '' },
  { name: 'dry-run', type: 'bool', default: false }
]

// Cobra's Args validators.
/** @param {string} path @returns {(args: string[]) => void} */
const noArgs = (path) => (args) => {
  if (args.length) throw new CliError(`unknown command "${args[0]}" for "${path}"`, EXIT_USAGE)
}
/** @param {string[]} args */
const exactArgs0 = (args) => {
  if (args.length) throw new CliError(`accepts 0 arg(s), received ${args.length}`)
}

/** @type {Record<string, Command>} */
const COMMANDS = {
  install: {
    aliases: ['apply'],
    flags: INSTALL_FLAGS,
    args: exactArgs0,
    run: runInstall,
    short: 'Applies an Istio manifest, installing or reconfiguring Istio on a cluster.'
  },
  upgrade: { flags: INSTALL_FLAGS, args: exactArgs0, run: runInstall, short: 'Upgrade Istio control plane in-place' },
  'create-remote-secret': {
    flags: [
      { name: 'name', type: 'string', default: '' },
      { name: 'server', type: 'string', default: '' },
      { name: 'service-account', type: 'string', default: '' },
      { name: 'create-service-account', type: 'bool', default: true },
      { name: 'tls-server-name', type: 'string', default: '' },
      { name: 'secret-name', type: 'string', default: '' },
      { name: 'auth-type', type: 'string', default: 'bearer-token' },
      { name: 'auth-plugin-name', type: 'string', default: '' },
      { name: 'auth-plugin-config', type: 'stringArray', default: [] },
      { name: 'type', type: 'string', default: 'remote' },
      { name: 'manifests', short: 'd', type: 'string', default: '' }
    ],
    args: noArgs('istioctl create-remote-secret'),
    run: runCreateRemoteSecret,
    short: 'Create a secret with credentials to allow Istio to access remote Kubernetes apiservers'
  },
  'proxy-config': {
    aliases: ['pc'],
    flags: [
      { name: 'output', short: 'o', type: 'string', default: 'short' },
      { name: 'address', type: 'string', default: '' },
      { name: 'port', type: 'int', default: 0 },
      { name: 'cluster', type: 'string', default: '' },
      { name: 'status', type: 'string', default: '' },
      { name: 'file', short: 'f', type: 'string', default: '' }
    ],
    run: runProxyConfig,
    short: 'Retrieve information about proxy configuration from Envoy [kube only]'
  },
  'remote-clusters': {
    flags: [{ name: 'revision', short: 'r', type: 'string', default: '' }],
    run: runRemoteClusters,
    short: 'Lists the remote clusters each istiod instance is connected to.'
  },
  uninstall: {
    flags: [
      { name: 'skip-confirmation', short: 'y', type: 'bool', default: false },
      { name: 'force', type: 'bool', default: false },
      { name: 'purge', type: 'bool', default: false },
      { name: 'revision', short: 'r', type: 'string', default: '' },
      { name: 'filename', short: 'f', type: 'string', default: '' },
      { name: 'manifests', short: 'd', type: 'string', default: '' },
      { name: 'set', short: 's', type: 'stringArray', default: [] },
      { name: 'verbose', short: 'v', type: 'bool', default: false },
      { name: 'dry-run', type: 'bool', default: false }
    ],
    run: runUninstall,
    short: 'Uninstall Istio from a cluster'
  },
  version: {
    flags: [
      { name: 'short', short: 's', type: 'bool', default: true },
      { name: 'output', short: 'o', type: 'string', default: '' },
      { name: 'remote', type: 'bool', default: true },
      { name: 'revision', short: 'r', type: 'string', default: '' }
    ],
    run: runVersion,
    short: 'Prints out build version information'
  }
}

// Real commands this simulator does not model: recognised (so they are not "unknown"), but they fail.
const NOT_SIMULATED = [
  'admin',
  'analyze',
  'bug-report',
  'completion',
  'dashboard',
  'kube-inject',
  'manifest',
  'options',
  'proxy-status',
  'tag',
  'validate',
  'waypoint',
  'ztunnel-config',
  'authz'
]
const EXPERIMENTAL = [
  'authz',
  'check-inject',
  'config',
  'describe',
  'envoy-stats',
  'injector',
  'internal-debug',
  'metrics',
  'precheck',
  'proxy-status',
  'version',
  'workload'
]

/** @param {string} a @param {string} b */
function levenshtein(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0][j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
  }
  return d[a.length][b.length]
}

// Cobra's "unknown command" error, with its suggestions (distance ≤ 2 or prefix).
/** @param {string} name @param {string} path @param {string[]} candidates */
function unknownCommand(name, path, candidates) {
  const lower = name.toLowerCase()
  const suggestions = candidates.filter(
    (c) => levenshtein(lower, c.toLowerCase()) <= 2 || c.toLowerCase().startsWith(lower)
  )
  let msg = `unknown command "${name}" for "${path}"`
  if (suggestions.length) msg += `\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}\n`).join('')}`
  return new CliError(`${msg}\nRun '${path} --help' for usage.`, EXIT_USAGE)
}

/** @param {Io} io @param {string} path @param {string[]} commands */
function usage(io, path, commands) {
  io.stdout.write(
    `Istio configuration command line utility for service operators to\ndebug and diagnose their Istio mesh.\n\nUsage:\n  ${path} [command]\n\nAvailable Commands:\n` +
      commands.map((c) => `  ${c.padEnd(22)}${COMMANDS[c]?.short || ''}\n`).join('') +
      `\nUse "${path} [command] --help" for more information about a command.\n`
  )
}

/**
 * @param {string[]} args
 * @returns {{ kind: 'root' } | { kind: 'experimental' } | { kind: 'not-simulated', name: string } | { kind: 'command', name: string, args: string[] }}
 */
function findCommand(args) {
  const first = firstPositional(args, ROOT_FLAGS)
  if (first.name === undefined) return { kind: 'root' }
  const rest = [...args.slice(0, first.index), ...args.slice(first.index + 1)]
  if (['experimental', 'x', 'exp'].includes(first.name)) {
    const sub = firstPositional(rest, ROOT_FLAGS, first.index)
    if (sub.name === undefined) return { kind: 'experimental' }
    if (!EXPERIMENTAL.includes(sub.name)) throw unknownCommand(sub.name, 'istioctl experimental', EXPERIMENTAL)
    return { kind: 'not-simulated', name: `experimental ${sub.name}` }
  }
  if (first.name === 'help') return { kind: 'root' }
  const wanted = first.name
  const name = Object.keys(COMMANDS).find((c) => c === wanted || COMMANDS[c].aliases?.includes(wanted))
  if (name) return { kind: 'command', name, args: rest }
  if (NOT_SIMULATED.includes(first.name)) return { kind: 'not-simulated', name: first.name }
  throw unknownCommand(
    first.name,
    'istioctl',
    [...Object.keys(COMMANDS), ...NOT_SIMULATED, 'experimental', 'help'].sort()
  )
}

/**
 * Run one istioctl invocation.
 * @param {string[]} argv arguments after the program name
 * @param {{ stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream }} io
 * @returns {Promise<number>} exit code
 */
export async function main(argv, io = { stdout: process.stdout, stderr: process.stderr }) {
  try {
    const found = findCommand(argv)
    if (found.kind === 'root' || found.kind === 'experimental') {
      parseFlags(
        argv.filter((a) => !['help', 'experimental', 'x', 'exp'].includes(a)),
        ROOT_FLAGS
      )
      usage(
        io,
        found.kind === 'root' ? 'istioctl' : 'istioctl experimental',
        found.kind === 'root' ? Object.keys(COMMANDS) : []
      )
      return 0
    }
    if (found.kind === 'not-simulated') {
      throw new CliError(`"istioctl ${found.name}" is not implemented by the simulated istioctl`)
    }
    const cmd = COMMANDS[found.name]
    const { values, positionals, changed } = parseFlags(found.args, [...ROOT_FLAGS, ...cmd.flags])
    if (values.help) {
      usage(io, `istioctl ${found.name}`, [])
      return 0
    }
    cmd.args?.(positionals)
    await cmd.run({ ...values, __changed: changed, __args: positionals }, io)
    return 0
  } catch (err) {
    if (err instanceof SilentExit) {
      if (err instanceof GoPanic) io.stderr.write(err.output)
      return err.exitCode
    }
    if (err instanceof CliError) {
      if (err.preface) io.stderr.write(err.preface)
      io.stderr.write(`Error: ${err.message}\n`)
      return err.exitCode
    }
    // A bug in the simulator, not a modelled failure: show where.
    io.stderr.write(`Error: simulated istioctl crashed: ${/** @type {Error | undefined} */ (err)?.stack || err}\n`)
    return 1
  }
}

/** Run with the process's arguments and exit once stdout has drained. */
export function run() {
  process.stdout.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err
  })
  main(process.argv.slice(2)).then((code) => {
    process.stdout.write('', () => process.exit(code))
  })
}
