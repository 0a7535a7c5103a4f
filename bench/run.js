#!/usr/bin/env node
// `npm run bench`: the bundled action (dist/, on Node 24, as GitHub runs it) against simulated clusters whose steps
// take realistic time, side by side with the guide's steps as a plain shell script (bench/baseline.sh) against the
// same kind of clusters, and with the limit: the slowest cluster's own critical path, run alone. See bench/README.md.
//
//   node bench/run.js [--runs 3] [--n 2,4,8] [--json] [--out bench/results.json] [--scale 1] [--no-default-config]
//
// Every measurement gets fresh simulated clusters. Times are wall-clock from this process (Date.now() and the shims'
// $EPOCHREALTIME share one clock). Progress goes to stderr; the table to stdout (to stderr with --json, which prints
// the JSON on stdout instead).
import { spawn, execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import http from 'node:http'
import { startSimulation } from '../test/sim/index.js'
import { packageIstioctl } from '../test/sim/releases.js'
import { makeRunner, node24, runAction } from '../test/harness/action.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const VERSION = '1.30.3'

// --- options ---------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = {
    runs: 3,
    ns: [2, 4, 8],
    json: false,
    out: path.join(ROOT, 'bench', 'results.json'),
    scale: 1,
    defaultConfig: true,
    defaultRuns: 1,
    quietWaitS: 0,
    retries: 2,
    downloads: true,
    baseline: true,
    dist: process.env.ACTION_DIST || path.join(ROOT, 'dist')
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--runs') opts.runs = Number(next())
    else if (a === '--n') opts.ns = next().split(',').map(Number)
    else if (a === '--json') opts.json = true
    else if (a === '--out') opts.out = path.resolve(next())
    else if (a === '--scale') opts.scale = Number(next())
    else if (a === '--no-default-config') opts.defaultConfig = false
    else if (a === '--trace') opts.trace = true
    else if (a === '--quiet-wait') opts.quietWaitS = Number(next())
    else if (a === '--default-runs') opts.defaultRuns = Number(next())
    else if (a === '--retries') opts.retries = Number(next())
    else if (a === '--no-downloads') opts.downloads = false
    else if (a === '--no-baseline') opts.baseline = false
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        fs
          .readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n')
          .slice(0, 10)
          .join('\n') + '\n'
      )
      process.exit(0)
    } else throw new Error(`unknown option ${a}`)
  }
  if (!(opts.runs >= 1) || opts.ns.some((n) => !Number.isInteger(n) || n < 2 || n > 253) || !(opts.scale > 0))
    throw new Error('bad --runs, --n (each 2…253) or --scale')
  return opts
}

// --- the simulated clusters --------------------------------------------------------------------------------------

/**
 * Per-cluster times (ms). A normal cluster takes these × its factor; the slow one × 1.5. The istioctl delays come on
 * top of what the simulated istioctl itself spends (a Node process start, ~60 API round trips for the control plane,
 * ~25 for the gateway, each with the cluster's latency), so alone they take about: control plane 3–4 s (slow: 4.5 s),
 * gateway 2 s (slow: 2.6 s), address 1.8 s (slow: 2.7 s) after the Service exists; create-remote-secret ~0.5 s.
 */
const PROFILE = { controlPlaneMs: 1000, gatewayMs: 800, lbMs: 1800, remoteSecretMs: 0, latencyMs: 8 }
const SLOW = 1.5
const FACTORS = [1.0, 0.9, 1.1, 0.95, 1.05, 0.85, 1.0, 0.9, 1.1, 0.95]

/** The i-th of n clusters (0-based); the last is the slow one, identical whatever n is, so one limit serves every N. */
function clusterProfile(i, n, scale) {
  const slow = i === n - 1
  const f = slow ? SLOW : FACTORS[i % FACTORS.length]
  const ms = (x) => Math.round(x * f * scale)
  return {
    name: slow ? 'slow' : `c${i + 1}`,
    slow,
    controlPlaneMs: ms(PROFILE.controlPlaneMs),
    gatewayMs: ms(PROFILE.gatewayMs),
    lbMs: ms(PROFILE.lbMs),
    remoteSecretMs: ms(PROFILE.remoteSecretMs),
    latencyMs: Math.round(PROFILE.latencyMs * f)
  }
}

/**
 * A simulation of the given profiles. The simulated istioctl asks `/sim/v1/behaviour?op=install` how long to take;
 * both installs are op "install", so the answer depends on whether istiod is there yet (control plane first, then
 * the gateway). The API server keeps a reference to the delays object, so a getter works.
 */
async function simulate(profiles) {
  const stores = new Map()
  const specs = profiles.map((p) => ({
    name: p.name,
    latencyMs: p.latencyMs,
    lb: { mode: 'ip', delayMs: p.lbMs },
    istioctlDelays: {
      get install() {
        return stores.get(p.name)?.get('apps/v1', 'Deployment', 'istio-system', 'istiod') ? p.gatewayMs : p.controlPlaneMs
      },
      'create-remote-secret': p.remoteSecretMs
    }
  }))
  const sim = await startSimulation({ clusters: specs, versions: [VERSION] })
  // When each cluster's load balancer assigned the gateway's address (the store knows it at once).
  const assignedAt = new Map()
  for (const c of sim.clusters) {
    stores.set(c.name, c.store)
    c.store.on('change', (e) => {
      const o = e.object
      if (o.kind === 'Service' && o.metadata.name === 'istio-eastwestgateway' && o.status?.loadBalancer?.ingress?.length && !assignedAt.has(c.name))
        assignedAt.set(c.name, Date.now())
    })
  }
  return { sim, assignedAt }
}

/** One kubeconfig file, one context per cluster (what the guide's CTX_CLUSTER1/2 name). JSON is YAML. */
function mergedKubeconfig(sim) {
  const cs = sim.clusters
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: cs.map((c) => ({ name: c.name, cluster: { server: c.url, 'certificate-authority-data': Buffer.from(c.caPem).toString('base64') } })),
    contexts: cs.map((c) => ({ name: c.name, context: { cluster: c.name, user: c.name } })),
    users: cs.map((c) => ({ name: c.name, user: { token: c.adminToken } })),
    'current-context': cs[0].name
  })
}

// --- tools: shims that count processes, a tool cache seeded with istioctl ------------------------------------------

/**
 * A bash wrapper that appends "<µs since epoch> <tool> <argv>" to $BENCH_LOG, then execs the real binary. With
 * --trace it runs the tool as its child instead (passing stdin and SIGTERM on) and also logs its end and CPU time:
 * that costs a fork more per command, so traced runs are for finding where the time goes, not for the table.
 */
function shim(file, real, tool, trace) {
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

async function prepareTools(work, trace) {
  const kubectl = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()
  const realKubectl = fs.realpathSync(kubectl)
  const binDir = path.join(work, 'shim-bin')
  fs.mkdirSync(binDir, { recursive: true })
  shim(path.join(binDir, 'kubectl'), realKubectl, 'kubectl', trace)

  // The simulated istioctl exactly as the release archive holds it.
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
  shim(path.join(cached, 'istioctl'), realIstioctl, 'istioctl', trace)
  return { binDir, toolCache, istioctl: path.join(cached, 'istioctl'), realKubectl, realIstioctl }
}

function readShimLog(file) {
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [us, tool, ...args] = line.split(' ')
      const at = args.findIndex((a) => a === '--context' || a.startsWith('--context='))
      const cluster = at < 0 ? undefined : args[at].includes('=') ? args[at].split('=')[1] : args[at + 1]
      return { at: Number(us) / 1000, tool, cluster, args }
    })
}

// --- CPU: this process (the simulated API servers) and every finished descendant (action, kubectl, istioctl) ---

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100)

/** CPU ms so far: `server` = this process (it hosts every simulated API server), `tools` = waited-for descendants. */
// In /proc/<pid>/stat after "pid (comm) ", field 3 (state) is at 0: utime 14, stime 15, cutime 16, cstime 17 at 11–14.

/** Busy CPU ms of the whole machine (all cores), from /proc/stat. */
function machineBusy() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) * TICK_MS
}
function cpuNow() {
  const fields = fs
    .readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /, '')
    .split(' ')
  const u = process.cpuUsage() // this process hosts every simulated API server
  return { server: (u.user + u.system) / 1000, tools: (Number(fields[13]) + Number(fields[14])) * TICK_MS, machine: machineBusy(), at: Date.now() }
}
/** CPU used since `a`: by the simulated API servers, by the tools (action/script, kubectl, istioctl), by anything else on the machine. */
const cpuSince = (a) => {
  const b = cpuNow()
  const serverMs = Math.round(b.server - a.server)
  const toolsMs = Math.round(b.tools - a.tools)
  const wall = b.at - a.at
  return {
    serverMs,
    toolsMs,
    othersMs: Math.max(0, Math.round(b.machine - a.machine - serverMs - toolsMs)),
    utilisation: +((b.machine - a.machine) / (wall * os.cpus().length)).toFixed(2)
  }
}

/**
 * --quiet-wait S: before a measurement, wait (at most S seconds) until the rest of the machine uses less than 10% of
 * its CPUs over one second. Other people's test runs on a shared machine slow the concurrent action far more than the
 * sequential script, so a busy machine flatters the baseline. Returns the share the others used at the start.
 */
async function quietMachine(maxS) {
  const sample = async () => {
    const a = cpuNow()
    await new Promise((r) => setTimeout(r, 1000))
    const d = cpuSince(a)
    return d.othersMs / (1000 * os.cpus().length)
  }
  const deadline = Date.now() + maxS * 1000
  let share = await sample()
  while (share > 0.1 && Date.now() < deadline) share = await sample()
  return +share.toFixed(2)
}

// --- one action run ----------------------------------------------------------------------------------------------

const STEP_KINDS = [
  [/^namespace istio-system/, 'namespace'],
  [/^root of trust/, 'root-of-trust'],
  [/^control plane/, 'control-plane'],
  [/^east-west gateway/, 'eastwest-gateway'],
  [/^gateway address/, 'gateway-address'],
  [/^expose services/, 'expose-services'],
  [/^create remote secret/, 'remote-secret'],
  [/^remote secrets of/, 'remote-secrets-in'],
  [/^verify/, 'verify']
]
const kindOf = (title) => STEP_KINDS.find(([re]) => re.test(title))?.[1] ?? title

/** Timestamps each line of the action's stdout as it arrives: "▸ c · title" when a step starts, "::group::✔ c · title (…)" when it ends. */
function stepTimeline(child, t0, timeline) {
  let partial = ''
  child.stdout.on('data', (chunk) => {
    const now = Date.now()
    partial += chunk.toString('utf8')
    const lines = partial.split('\n')
    partial = lines.pop()
    for (const line of lines) {
      let m = /^▸ (\S+) · (.+)$/.exec(line)
      if (m) timeline.push({ at: now - t0, cluster: m[1], step: kindOf(m[2]), event: 'start' })
      m = /^::group::([✔✖]) (\S+) · (.+?) \((\d+\.\d) s\)/.exec(line)
      if (m) timeline.push({ at: now - t0, cluster: m[2], step: kindOf(m[3]), event: m[1] === '✔' ? 'ok' : 'failed' })
      if (/^::group::[✔✖] mesh · /.test(line)) timeline.push({ at: now - t0, cluster: 'mesh', step: 'root-of-trust-prepare', event: 'ok' })
    }
  })
}

async function runActionOnce({ n, scale, tools, work, dist, config = 'bench' }) {
  const profiles = Array.from({ length: n }, (_, i) => clusterProfile(i, n, scale))
  const { sim, assignedAt } = await simulate(profiles)
  const runner = makeRunner({ toolCache: tools.toolCache })
  const log = path.join(work, `shim-${Date.now()}-${Math.random().toString(36).slice(2)}.log`)
  const timeline = []
  let t0 = 0
  let ownCpuMs
  let sampler
  try {
    const inputs = {
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': VERSION,
      ...sim.inputs,
      ...(config === 'bench' ? { ca: 'none', verify: 'none' } : {})
    }
    const env = { ...sim.env, PATH: `${tools.binDir}:${process.env.PATH}`, BENCH_LOG: log }
    const prev = process.env.ACTION_DIST
    process.env.ACTION_DIST = dist
    let run
    const cpu0 = cpuNow()
    try {
      run = await runAction({
        inputs,
        env,
        runner,
        timeoutMs: 120_000,
        onSpawn: (child) => {
          t0 = Date.now()
          stepTimeline(child, t0, timeline)
          // The action's own CPU (its node process, without its children), sampled until it exits.
          const read = () => {
            try {
              const f = fs
                .readFileSync(`/proc/${child.pid}/stat`, 'utf8')
                .replace(/^.*\) /, '')
                .split(' ')
              if (f[0] !== 'Z') ownCpuMs = (Number(f[11]) + Number(f[12])) * TICK_MS
            } catch {
              // gone already: keep the last sample
            }
          }
          sampler = setInterval(read, 20)
          child.on('exit', () => clearInterval(sampler))
        }
      })
    } finally {
      clearInterval(sampler)
      if (prev === undefined) delete process.env.ACTION_DIST
      else process.env.ACTION_DIST = prev
    }
    const cpu = cpuSince(cpu0)
    if (run.exitCode !== 0) {
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'))
      const logFile = path.join(os.tmpdir(), `bench-failed-${Date.now()}.log`)
      fs.writeFileSync(logFile, `${run.stdout}\n--- stderr ---\n${run.stderr}`)
      throw new Error(`the action failed (exit ${run.exitCode}, N=${n}, ${config}; its log: ${logFile}):\n${errors.join('\n')}\n${run.stderr.slice(-2000)}`)
    }
    const shims = readShimLog(log)
    const wallMs = run.durationMs
    const slow = profiles[n - 1]
    const firstCommand = shims.length ? Math.min(...shims.map((s) => s.at)) - t0 : undefined
    // The address wait of each cluster: when the LB assigned it, when the action's step ended, what it asked the API.
    const waits = sim.clusters.map((c) => {
      const start = timeline.find((e) => e.cluster === c.name && e.step === 'gateway-address' && e.event === 'start')
      const end = timeline.find((e) => e.cluster === c.name && e.step === 'gateway-address' && e.event === 'ok')
      const assigned = assignedAt.has(c.name) ? assignedAt.get(c.name) - t0 : undefined
      const window = start && end ? c.requests.filter((r) => !r.sim && r.at - t0 >= start.at - 5 && r.at - t0 <= end.at && r.path.includes('/services')) : []
      return {
        cluster: c.name,
        waitStartMs: start?.at,
        assignedMs: assigned,
        seenMs: end?.at,
        // From the moment the address exists (or the wait began, if it existed before) to the step's end.
        reactionMs: end && assigned !== undefined ? end.at - Math.max(assigned, start.at) : undefined,
        assignedBeforeWait: assigned !== undefined && start ? assigned < start.at : undefined,
        serviceRequests: window.length,
        serviceRequestsDetail: window.map((r) => `${r.method} ${r.url.replace(/^\/api\/v1\/namespaces\/istio-system\/services/, '…/services')}`)
      }
    })
    return {
      n,
      config,
      wallMs,
      postMs: run.post.durationMs,
      cpu: { ...cpu, actionProcessMs: ownCpuMs },
      ...(fs.existsSync(`${log}.cpu`) ? { trace: readCpuLog(`${log}.cpu`, t0) } : {}),
      firstCommandMs: firstCommand,
      waitsSlowMs: slow.controlPlaneMs + slow.gatewayMs + slow.lbMs,
      processes: perCluster(
        shims,
        sim.clusters.map((c) => c.name)
      ),
      behaviourRequests: Object.fromEntries(sim.clusters.map((c) => [c.name, c.requests.filter((r) => r.sim).length])),
      apiRequests: Object.fromEntries(sim.clusters.map((c) => [c.name, c.requests.filter((r) => !r.sim).length])),
      timeline,
      waits
    }
  } finally {
    await sim.stop()
    runner.cleanup()
    fs.rmSync(log, { force: true })
    fs.rmSync(`${log}.cpu`, { force: true })
  }
}

/** --trace: each command's start and end (ms from t0), CPU (ms) and what it was. */
function readCpuLog(file, t0) {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, end, tool, user, sys, ...args] = line.split(' ')
      const at = args.findIndex((a) => a === '--context' || a.startsWith('--context='))
      const cluster = at < 0 ? undefined : args[at].includes('=') ? args[at].split('=')[1] : args[at + 1]
      const what = args
        .filter((a) => !a.startsWith('-') && !a.startsWith('/') && !a.includes('://') && a !== cluster)
        .slice(0, 2)
        .join(' ')
      return {
        tool,
        cluster,
        what,
        startMs: Math.round(Number(start) / 1000 - t0),
        endMs: Math.round(Number(end) / 1000 - t0),
        cpuMs: Math.round((Number(user) + Number(sys)) * 1000)
      }
    })
}

function perCluster(shims, names) {
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        kubectl: shims.filter((s) => s.cluster === name && s.tool === 'kubectl').length,
        istioctl: shims.filter((s) => s.cluster === name && s.tool === 'istioctl').length
      }
    ])
  )
}

// --- one baseline run --------------------------------------------------------------------------------------------

/** bench/baseline.sh against fresh clusters: `profiles` all of them (phases install+secrets) or the slow one alone (phase path). */
async function runBaselineOnce({ profiles, phases, tools, work }) {
  const { sim, assignedAt } = await simulate(profiles)
  const dir = fs.mkdtempSync(path.join(work, 'baseline-'))
  const kubeconfig = path.join(dir, 'kubeconfig')
  fs.writeFileSync(kubeconfig, mergedKubeconfig(sim), { mode: 0o600 })
  const log = path.join(dir, 'shim.log')
  try {
    const env = {
      PATH: `${tools.binDir}:${process.env.PATH}`,
      HOME: dir,
      LANG: 'C.UTF-8',
      KUBECONFIG: kubeconfig,
      KUBECACHEDIR: path.join(dir, 'kube-cache'),
      ISTIOCTL: tools.istioctl,
      BENCH_LOG: log,
      PHASES: phases,
      CLUSTERS: sim.clusters.map((c, i) => `${c.name}:network${i + 1}:${c.reachableUrl}`).join(' ')
    }
    const cpu0 = cpuNow()
    const t0 = Date.now()
    const r = await exec('bash', [path.join(ROOT, 'bench', 'baseline.sh')], { env })
    const wallMs = Date.now() - t0
    const cpu = cpuSince(cpu0)
    if (r.code !== 0) throw new Error(`baseline.sh failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
    const marks = r.stdout
      .split('\n')
      .map((l) => /^(\d{16}) (.+)$/.exec(l))
      .filter(Boolean)
      .map((m) => ({ at: Number(m[1]) / 1000 - t0, what: m[2] }))
    const shims = readShimLog(log)
    const slow = profiles[profiles.length - 1]
    return {
      n: profiles.length,
      phases,
      wallMs,
      cpu,
      waitsSlowMs: slow.controlPlaneMs + slow.gatewayMs + slow.lbMs,
      processes: perCluster(
        shims,
        sim.clusters.map((c) => c.name)
      ),
      ...(fs.existsSync(`${log}.cpu`) ? { trace: readCpuLog(`${log}.cpu`, t0) } : {}),
      marks,
      assignedMs: Object.fromEntries([...assignedAt].map(([k, v]) => [k, v - t0]))
    }
  } finally {
    await sim.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function exec(cmd, args, opts) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    p.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

// --- downloads: a counting proxy in front of the simulated release site ------------------------------------------

/** Forwards to the release site and counts every body byte sent to the action (API answers, redirects, checksums, archives). */
async function countingProxy(origin) {
  const state = { bytes: 0, requests: 0 }
  const server = http.createServer((req, res) => {
    state.requests++
    const up = http.request(new URL(req.url, origin), { method: req.method, headers: { ...req.headers, host: new URL(origin).host } }, (upRes) => {
      const headers = { ...upRes.headers }
      if (headers.location) headers.location = headers.location.replace(origin, proxyOrigin)
      res.writeHead(upRes.statusCode, headers)
      upRes.on('data', (d) => (state.bytes += d.length))
      upRes.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const proxyOrigin = `http://127.0.0.1:${server.address().port}`
  return { origin: proxyOrigin, state, close: () => new Promise((r) => (server.close(() => r()), server.closeAllConnections())) }
}

/** A fresh runner (empty tool cache) runs the action twice with `latest`, then once more with the exact version. */
async function measureDownloads({ tools, work, dist }) {
  const profiles = [0, 1].map((i) => ({ ...clusterProfile(i, 2, 0), latencyMs: 0 }))
  const { sim } = await simulate(profiles)
  const relOrigin = new URL(sim.releases.apiUrl).origin
  const proxy = await countingProxy(relOrigin)
  const runner = makeRunner()
  const out = []
  try {
    for (const [label, version] of [
      ['first run, empty tool cache, istio-version: latest', 'latest'],
      ['second run, warm tool cache, istio-version: latest', 'latest'],
      ['third run, warm tool cache, istio-version: 1.30.3', VERSION]
    ]) {
      const log = path.join(work, `dl-${out.length}.log`)
      const before = { ...proxy.state }
      let t0 = 0
      const prev = process.env.ACTION_DIST
      process.env.ACTION_DIST = dist
      const run = await runAction({
        inputs: {
          clusters: sim.clustersInput(),
          kubeconfig: sim.kubeconfig(),
          'istio-version': version,
          'download-base-url': sim.releases.downloadBaseUrl.replace(relOrigin, proxy.origin),
          'github-token': sim.inputs['github-token'],
          ca: 'none',
          verify: 'none'
        },
        env: { GITHUB_API_URL: sim.releases.apiUrl.replace(relOrigin, proxy.origin), PATH: `${tools.binDir}:${process.env.PATH}`, BENCH_LOG: log },
        runner,
        onSpawn: () => (t0 = Date.now())
      }).finally(() => (prev === undefined ? delete process.env.ACTION_DIST : (process.env.ACTION_DIST = prev)))
      if (run.exitCode !== 0) throw new Error(`download run failed:\n${run.stdout.slice(-2000)}`)
      const shims = readShimLog(log)
      out.push({
        run: label,
        bytes: proxy.state.bytes - before.bytes,
        requests: proxy.state.requests - before.requests,
        firstCommandMs: shims.length ? Math.min(...shims.map((s) => s.at)) - t0 : undefined,
        fromCache: /from the tool cache/.test(run.stdout)
      })
      fs.rmSync(log, { force: true })
    }
  } finally {
    await proxy.close()
    await sim.stop()
    runner.cleanup()
  }
  return out
}

// --- machine, dist ------------------------------------------------------------------------------------------------

function machine(tools) {
  const cpu = /model name\s*:\s*(.+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim()
  const v = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim()
    } catch {
      return '?'
    }
  }
  return {
    nproc: Number(v('nproc', [])),
    cpu,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node24: v(node24(), ['--version']),
    benchNode: process.version,
    kubectl: /Client Version: (\S+)/.exec(v(tools.realKubectl, ['version', '--client']))?.[1],
    kernel: os.release()
  }
}

function distSize(dist) {
  const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : 0)
  let total = 0
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else total += size(p)
    }
  }
  if (fs.existsSync(dist)) walk(dist)
  return {
    dir: path.relative(ROOT, dist) || dist,
    mainBytes: size(path.join(dist, 'main', 'index.js')),
    postBytes: size(path.join(dist, 'post', 'index.js')),
    totalBytes: total
  }
}

// --- statistics, report -------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const stats = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x))
  return v.length ? { min: Math.min(...v), median: median(v), max: Math.max(...v), samples: v } : undefined
}
const sec = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(1))
const mm = (s, f = sec) => (s ? `${f(s.min)} / ${f(s.median)}` : '—')
const ratio = (a, b) => (a && b ? a / b : undefined)

const PATH_STEPS = ['namespace', 'root-of-trust', 'control-plane', 'eastwest-gateway', 'gateway-address']

/** The slow cluster's critical path in one action run: start-up, each step, and what came after its address (ms). */
function actionPath(run) {
  const ev = (step, event) => run.timeline.find((e) => e.cluster === 'slow' && e.step === step && e.event === event)?.at
  const out = { startup: ev('namespace', 'start') }
  for (const k of PATH_STEPS) if (ev(k, 'start') !== undefined) out[k] = ev(k, 'ok') - ev(k, 'start')
  out.after = run.wallMs - ev('gateway-address', 'ok')
  return out
}

/** The same for the limit (bench/baseline.sh PHASES=path). */
function limitPath(run) {
  const at = (what) => run.marks.find((m) => m.what === `slow ${what}`)?.at
  const done = run.marks.find((m) => m.what === 'done')?.at
  return {
    startup: at('namespace'),
    namespace: at('control-plane') - at('namespace'),
    'control-plane': at('eastwest-gateway') - at('control-plane'),
    'eastwest-gateway': at('gateway-address') - at('eastwest-gateway'),
    'gateway-address': at('address-seen') - at('gateway-address'),
    after: run.wallMs - done
  }
}

function medianPath(paths) {
  const keys = [...new Set(paths.flatMap((p) => Object.keys(p)))]
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(paths.map((p) => p[k]).filter((x) => typeof x === 'number')))]))
}

function summarize(raw, opts) {
  const limit = stats(raw.limit.map((r) => r.wallMs))
  const rows = opts.ns.map((n) => {
    const act = raw.action.filter((r) => r.n === n)
    const base = raw.baseline.filter((r) => r.n === n)
    const def = raw.defaultConfig.filter((r) => r.n === n)
    const action = stats(act.map((r) => r.wallMs))
    const baseline = stats(base.map((r) => r.wallMs))
    const procs = (runs, tool) => stats(runs.flatMap((r) => Object.values(r.processes).map((p) => p[tool])))
    const waits = act.flatMap((r) => r.waits)
    const cpu = (runs) => ({
      toolsMs: stats(runs.map((r) => r.cpu.toolsMs)),
      serverMs: stats(runs.map((r) => r.cpu.serverMs)),
      actionProcessMs: stats(runs.map((r) => r.cpu.actionProcessMs)),
      othersMs: stats(runs.map((r) => r.cpu.othersMs))
    })
    return {
      n,
      slowPath: {
        action: medianPath(act.map(actionPath)),
        defaultConfig: def.length ? medianPath(def.map(actionPath)) : undefined,
        limit: medianPath(raw.limit.map(limitPath))
      },
      cpu: { action: cpu(act), baseline: base.length ? cpu(base) : undefined, limit: cpu(raw.limit) },
      actionMs: action,
      baselineMs: baseline,
      limitMs: limit,
      defaultConfigMs: stats(def.map((r) => r.wallMs)),
      actionOverLimit: { median: ratio(action?.median, limit?.median), min: ratio(action?.min, limit?.min) },
      actionOverBaseline: { median: ratio(action?.median, baseline?.median), min: ratio(action?.min, baseline?.min) },
      targetActionOverBaseline: (1 / n) * 1.2,
      simulatedWaitsMs: act[0]?.waitsSlowMs,
      actionOverheadMs: stats(act.map((r) => r.wallMs - r.waitsSlowMs)),
      limitOverheadMs: stats(raw.limit.map((r) => r.wallMs - r.waitsSlowMs)),
      kubectlPerCluster: { action: procs(act, 'kubectl'), baseline: procs(base, 'kubectl') },
      istioctlPerCluster: { action: procs(act, 'istioctl'), baseline: procs(base, 'istioctl') },
      // Every istioctl command asks /sim/v1/behaviour once: a second count, independent of the shim.
      istioctlShimMatchesApiServers: act.every((r) => Object.entries(r.processes).every(([c, p]) => p.istioctl === r.behaviourRequests[c])),
      coldStartMs: stats(act.map((r) => r.firstCommandMs)),
      addressWait: {
        reactionMs: stats(waits.map((w) => w.reactionMs)),
        serviceRequests: stats(waits.map((w) => w.serviceRequests)),
        assignedBeforeWait: waits.filter((w) => w.assignedBeforeWait).length,
        waits: waits.length
      }
    }
  })
  return rows
}

function table(rows, extra) {
  const head = [
    'N',
    'action s',
    'baseline s',
    'limit s',
    'act/limit',
    'act/base',
    '≤ target',
    'overhead s',
    'kubectl/cl',
    'istioctl/cl',
    'cold ms',
    'default s'
  ]
  const body = rows.map((r) => [
    String(r.n),
    mm(r.actionMs),
    mm(r.baselineMs),
    mm(r.limitMs),
    r.actionOverLimit.median?.toFixed(2) ?? '—',
    r.actionOverBaseline.median?.toFixed(2) ?? '—',
    r.targetActionOverBaseline.toFixed(2),
    mm(r.actionOverheadMs),
    `${fmtProc(r.kubectlPerCluster.action)} vs ${fmtProc(r.kubectlPerCluster.baseline)}`,
    `${fmtProc(r.istioctlPerCluster.action)} vs ${fmtProc(r.istioctlPerCluster.baseline)}`,
    mm(r.coldStartMs, (x) => String(Math.round(x))),
    mm(r.defaultConfigMs)
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  const out = [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)]
  return [...out, ...extra].join('\n')
}

/** Where the time goes: the slow cluster's critical path, median ms per part, action next to the limit. */
function pathTable(rows) {
  const parts = ['startup', ...PATH_STEPS, 'after']
  const head = [
    'run',
    ...parts.map((p) => p.replace('eastwest-gateway', 'gateway install').replace('gateway-address', 'address wait').replace('root-of-trust', 'cacerts')),
    'total'
  ]
  const line = (label, p) => [
    label,
    ...parts.map((k) => (p?.[k] === undefined || Number.isNaN(p[k]) ? '—' : sec(p[k]))),
    sec(parts.reduce((a, k) => a + (Number.isFinite(p?.[k]) ? p[k] : 0), 0))
  ]
  const body = [
    line('limit', rows[0].slowPath.limit),
    ...rows.map((r) => line(`action N=${r.n}`, r.slowPath.action)),
    ...rows.filter((r) => r.slowPath.defaultConfig).map((r) => line(`defaults N=${r.n}`, r.slowPath.defaultConfig))
  ]
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const fmt = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [fmt(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(fmt)].join('\n')
}

const fmtProc = (s) => (!s ? '—' : s.min === s.max ? String(s.min) : `${s.min}–${s.max}`)

/** --trace: where the time of one action run went, next to the limit's. */
function traceReport(a, limit) {
  const out = []
  const slow = 'slow'
  const steps = new Map()
  for (const e of a.timeline.filter((e) => e.cluster === slow)) {
    const s = steps.get(e.step) ?? {}
    if (e.event === 'start') s.start = e.at
    else s.end = e.at
    steps.set(e.step, s)
  }
  out.push(`  action N=${a.n} (${a.config}), cluster ${slow}: ` + [...steps].map(([k, v]) => `${k} ${sec(v.start)}→${sec(v.end)}`).join(', '))
  const m = limit.marks
  out.push(
    `  limit: ` +
      m
        .slice(0, -1)
        .map((x, i) => `${x.what.replace(/^slow /, '')} ${sec(x.at)}→${sec(m[i + 1].at)}`)
        .join(', ')
  )
  const byKind = (trace) => {
    const agg = new Map()
    for (const t of trace ?? []) {
      const k = `${t.tool} ${t.what}`
      const v = agg.get(k) ?? { n: 0, cpu: 0, wall: 0 }
      v.n++
      v.cpu += t.cpuMs
      v.wall += t.endMs - t.startMs
      agg.set(k, v)
    }
    return [...agg].sort((x, y) => y[1].cpu - x[1].cpu).map(([k, v]) => `${k} ×${v.n}: cpu ${sec(v.cpu)} s, wall ${sec(v.wall / v.n)} s each`)
  }
  out.push(
    `  action CPU: its node process ${sec(a.cpu.actionProcessMs)} s, tools+action ${sec(a.cpu.toolsMs)} s, API servers ${sec(a.cpu.serverMs)} s, others ${sec(a.cpu.othersMs)} s, machine ${Math.round(a.cpu.utilisation * 100)}% busy`
  )
  for (const l of byKind(a.trace)) out.push(`    ${l}`)
  out.push(`  limit CPU: tools ${sec(limit.cpu.toolsMs)} s, API server ${sec(limit.cpu.serverMs)} s`)
  for (const l of byKind(limit.trace)) out.push(`    ${l}`)
  out.push(`  limit commands: ` + (limit.trace ?? []).map((t) => `${t.tool} ${t.what} ${sec(t.startMs)}→${sec(t.endMs)} (cpu ${t.cpuMs} ms)`).join('; '))
  const slowCmds = (a.trace ?? []).filter((t) => t.cluster === slow)
  out.push(`  action commands on ${slow}: ` + slowCmds.map((t) => `${t.tool} ${t.what} ${sec(t.startMs)}→${sec(t.endMs)} (cpu ${t.cpuMs} ms)`).join('; '))
  return out.join('\n')
}

// --- main ---------------------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const say = (s) => process.stderr.write(`${s}\n`)
  const started = Date.now()
  if (!fs.existsSync(path.join(opts.dist, 'main', 'index.js')))
    throw new Error(`${opts.dist}/main/index.js is missing: run npm run package (or set ACTION_DIST)`)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-mc-bench-'))
  try {
    const tools = await prepareTools(work, opts.trace)
    const info = machine(tools)
    say(
      `bench: ${info.nproc} × ${info.cpu}, Node ${info.node24} (action), kubectl ${info.kubectl}; ${opts.runs} run(s) of N = ${opts.ns.join(', ')}; dist ${path.relative(ROOT, opts.dist) || opts.dist}`
    )
    const slowProfile = clusterProfile(0, 1, opts.scale)
    const raw = { limit: [], action: [], baseline: [], defaultConfig: [] }
    // Warm-up (not counted): page in kubectl, node 24, the bundle and the simulated istioctl.
    await runActionOnce({ n: 2, scale: 0.05, tools, work, dist: opts.dist })
    const busy = (r) => `machine ${Math.round(r.cpu.utilisation * 100)}% busy, others ${sec(r.cpu.othersMs)} CPU-s`
    const discarded = []
    /**
     * One measurement: after an optional quiet wait, run it; when other processes used more than 10% of the machine
     * meanwhile, run it again (at most --retries times) and keep the last. Discarded runs stay in the JSON.
     */
    const failures = []
    const measure = async (label, fn) => {
      for (let attempt = 0; ; attempt++) {
        const othersBefore = opts.quietWaitS > 0 ? await quietMachine(opts.quietWaitS) : undefined
        let r
        try {
          r = { othersBefore, ...(await fn()) }
        } catch (e) {
          // A failed or hung run (e.g. a wait that never ends) is a finding, not a reason to lose the whole bench.
          failures.push({ label, error: String(e.message ?? e).split('\n')[0] })
          say(`  ${label}: FAILED: ${failures.at(-1).error}`)
          if (attempt >= opts.retries) return undefined
          continue
        }
        const disturbed = r.cpu.othersMs > 0.1 * r.wallMs * info.nproc
        if (!disturbed || attempt >= opts.retries) return { ...r, disturbed, attempts: attempt + 1 }
        discarded.push({ label, ...r })
        say(`  ${label}: ${sec(r.wallMs)} s, disturbed (${busy(r)}): again`)
      }
    }
    for (let rep = 1; rep <= opts.runs; rep++) {
      const limit = await measure('limit', () => runBaselineOnce({ profiles: [slowProfile], phases: 'path', tools, work }))
      if (!limit) throw new Error('the limit could not be measured')
      raw.limit.push({ rep, ...limit })
      say(`run ${rep}/${opts.runs}: limit (the slow cluster alone, its critical path) ${sec(limit.wallMs)} s (${busy(limit)})`)
      for (const n of opts.ns) {
        const a = await measure(`N=${n} action`, () => runActionOnce({ n, scale: opts.scale, tools, work, dist: opts.dist }))
        if (a) {
          raw.action.push({ rep, ...a })
          say(`run ${rep}/${opts.runs}: N=${n} action ${sec(a.wallMs)} s, cold start ${Math.round(a.firstCommandMs)} ms (${busy(a)})`)
          if (opts.trace) say(traceReport(a, limit))
        }
        if (opts.baseline) {
          const profiles = Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale))
          const b = await measure(`N=${n} baseline`, () => runBaselineOnce({ profiles, phases: 'install secrets', tools, work }))
          if (b) {
            raw.baseline.push({ rep, ...b })
            say(`run ${rep}/${opts.runs}: N=${n} baseline ${sec(b.wallMs)} s (${busy(b)})`)
          }
        }
        if (opts.defaultConfig && rep <= opts.defaultRuns) {
          const d = await measure(`N=${n} defaults`, () => runActionOnce({ n, scale: opts.scale, tools, work, dist: opts.dist, config: 'default' }))
          if (d) {
            raw.defaultConfig.push({ rep, ...d })
            say(`run ${rep}/${opts.runs}: N=${n} action with its defaults (ca: generate, verify: remote-clusters) ${sec(d.wallMs)} s (${busy(d)})`)
            if (opts.trace) say(traceReport(d, limit))
          }
        }
      }
    }
    const downloads = opts.downloads ? await measureDownloads({ tools, work, dist: opts.dist }) : []
    for (const d of downloads) say(`downloads: ${d.run}: ${d.bytes} bytes in ${d.requests} request(s); first command after ${Math.round(d.firstCommandMs)} ms`)

    const rows = summarize(raw, opts)
    const result = {
      date: new Date().toISOString(),
      machine: info,
      options: {
        runs: opts.runs,
        ns: opts.ns,
        scale: opts.scale,
        profile: PROFILE,
        slowFactor: SLOW,
        clusters: Object.fromEntries(opts.ns.map((n) => [n, Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale))]))
      },
      dist: distSize(opts.dist),
      rows,
      downloads,
      benchSeconds: Math.round((Date.now() - started) / 1000),
      discarded,
      failures,
      raw
    }
    const extra = [
      '',
      `limit: the slow cluster alone (namespace → control plane → gateway → address) by bench/baseline.sh; its simulated waits ${sec(rows[0]?.simulatedWaitsMs)} s`,
      `action: ca: none, verify: none (as the guide's script); "default s": the action's defaults (ca: generate, verify: remote-clusters)`,
      `overhead: action wall time − the slow cluster's simulated waits (install + install + LB); the limit's own: ${mm(rows[0]?.limitOverheadMs)} s`,
      `address wait: reacts ${mm(stats(rows.flatMap((r) => r.addressWait.reactionMs?.samples ?? [])), (x) => String(Math.round(x)))} ms (min / median) after the LB assigns it; ${fmtProc(stats(rows.flatMap((r) => r.addressWait.serviceRequests?.samples ?? [])))} Service request(s) per wait`,
      ...downloads.map((d) => `downloads: ${d.run}: ${d.bytes} bytes (${d.requests} requests)`),
      `CPU per run at N=${rows.at(-1)?.n} (median): tools ${sec(rows.at(-1)?.cpu.action.toolsMs?.median)} s (of which the action's node process ${sec(rows.at(-1)?.cpu.action.actionProcessMs?.median)} s), simulated API servers ${sec(rows.at(-1)?.cpu.action.serverMs?.median)} s; the limit: ${sec(rows[0]?.cpu.limit.toolsMs?.median)} + ${sec(rows[0]?.cpu.limit.serverMs?.median)} s`,
      `failed runs (each retried): ${failures.length}${failures.map((f) => `\n  ${f.label}: ${f.error}`).join('')}`,
      `runs repeated because other processes used > 10% of the machine: ${discarded.length}${discarded.length ? ` (${discarded.map((d) => d.label).join(', ')})` : ''}`,
      `dist/: main ${result.dist.mainBytes} bytes, post ${result.dist.postBytes} bytes, ${result.dist.totalBytes} bytes in all`,
      `machine: ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB; action on Node ${info.node24}; kubectl ${info.kubectl}; bench took ${result.benchSeconds} s`
    ]
    const text = `${table(rows, extra)}\n\nWhere the time goes: the slow cluster's critical path, median s per part ("after": from its address to the end)\n${pathTable(rows)}`
    fs.mkdirSync(path.dirname(opts.out), { recursive: true })
    fs.writeFileSync(opts.out, JSON.stringify(result, null, 2) + '\n')
    if (opts.json) {
      process.stderr.write(text + '\n')
      process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    } else {
      process.stdout.write(text + '\n')
      say(`(JSON: ${path.relative(process.cwd(), opts.out)})`)
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

// Runs when invoked (node bench/run.js); importing it only exports the pieces, e.g. for an A/B of two bundles.
export { simulate, clusterProfile, prepareTools, runActionOnce, runBaselineOnce, actionPath, limitPath, quietMachine }
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    process.stderr.write(`bench: ${e.stack || e}\n`)
    process.exit(1)
  })
}
