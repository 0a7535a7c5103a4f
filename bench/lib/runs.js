// One measurement each: the action on fresh simulated clusters, or bench/baseline.sh (the guide's script, or the
// limit: its critical path for the slow cluster alone); and the loop that repeats a disturbed or failed one.
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeRunner, runAction } from '../../test/harness/action.js'
import { VERSION, clusterProfile, mergedKubeconfig, simulate } from './clusters.js'
import { cpuNow, cpuSince, quietMachine, sampleOwnCpu } from './machine.js'
import { perCluster, readCpuLog, readShimLog } from './shims.js'
import { busy, sec } from './table.js'
import { recordTimeline } from './timeline.js'
import { slowPathWaits, topologyOverrides } from './topology.js'

const BASELINE = fileURLToPath(new URL('../baseline.sh', import.meta.url))

/**
 * Runs `fn` with ACTION_DIST set to `dist` (the harness runs that bundle), then restores it.
 * @template T
 * @param {string} dist
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withDist(dist, fn) {
  const prev = process.env.ACTION_DIST
  process.env.ACTION_DIST = dist
  try {
    return await fn()
  } finally {
    if (prev === undefined) delete process.env.ACTION_DIST
    else process.env.ACTION_DIST = prev
  }
}

/** @param {string} dir */
const uniqueLog = (dir) => path.join(dir, `shim-${Date.now()}-${Math.random().toString(36).slice(2)}.log`)

/**
 * The address wait of each cluster: when the LB assigned it, when the action's step ended, what it asked the API.
 * @param {import('./clusters.js').Simulation} sim
 * @param {import('./timeline.js').TimedStepEvent[]} timeline
 * @param {Map<string, number>} assignedAt
 * @param {number} t0
 */
function addressWaits(sim, timeline, assignedAt, t0) {
  return sim.clusters.map((c) => {
    /** @param {string} event */
    const at = (event) =>
      timeline.find((e) => e.cluster === c.name && e.step === 'gateway-address' && e.event === event)?.at
    const start = at('start')
    const end = at('ok')
    const assigned = assignedAt.has(c.name) ? /** @type {number} */ (assignedAt.get(c.name)) - t0 : undefined
    const window =
      start !== undefined && end !== undefined
        ? c.requests.filter((r) => !r.sim && r.at - t0 >= start - 5 && r.at - t0 <= end && r.path.includes('/services'))
        : []
    return {
      cluster: c.name,
      waitStartMs: start,
      assignedMs: assigned,
      seenMs: end,
      // From the moment the address exists (or the wait began, if it existed before) to the step's end.
      reactionMs:
        end !== undefined && assigned !== undefined && start !== undefined
          ? end - Math.max(assigned, start)
          : undefined,
      assignedBeforeWait: assigned !== undefined && start !== undefined ? assigned < start : undefined,
      serviceRequests: window.length,
      serviceRequestsDetail: window.map(
        (r) => `${r.method} ${r.url.replace(/^\/api\/v1\/namespaces\/istio-system\/services/, '…/services')}`
      )
    }
  })
}

/** @typedef {Awaited<ReturnType<typeof runActionOnce>>} ActionRun */

/**
 * The action on n fresh clusters: `bench` inputs (ca: none, verify: none, as the guide's script) or its defaults; in
 * one topology (bench/lib/topology.js).
 * @param {{ n: number, scale: number, tools: import('./shims.js').Tools, work: string, dist: string,
 *   config?: 'bench' | 'default', profile?: import('./clusters.js').ProfileName,
 *   topology?: import('./topology.js').Topology }} o
 */
export async function runActionOnce({
  n,
  scale,
  tools,
  work,
  dist,
  config = 'bench',
  profile = 'today',
  topology = 'multi-primary'
}) {
  const profiles = Array.from({ length: n }, (_, i) => clusterProfile(i, n, scale, profile))
  const { sim, assignedAt } = await simulate(profiles)
  const runner = makeRunner({ toolCache: tools.toolCache })
  const log = uniqueLog(work)
  /** @type {import('./timeline.js').TimedStepEvent[]} */
  const timeline = []
  let t0 = 0
  /** @type {ReturnType<typeof sampleOwnCpu> | undefined} */
  let ownCpu
  try {
    const inputs = {
      clusters: sim.clustersInput(
        topologyOverrides(
          sim.clusters.map((c) => c.name),
          topology
        )
      ),
      kubeconfig: sim.kubeconfig(),
      'istio-version': VERSION,
      ...sim.inputs,
      ...(config === 'bench' ? { ca: 'none', verify: 'none' } : {})
    }
    const env = { ...sim.env, PATH: `${tools.binDir}:${process.env.PATH}`, BENCH_LOG: log }
    const cpu0 = cpuNow()
    const run = await withDist(dist, () =>
      runAction({
        inputs,
        env,
        runner,
        timeoutMs: 120_000 + 5000 * n,
        onSpawn: (child) => {
          t0 = Date.now()
          recordTimeline(child, t0, timeline)
          ownCpu = sampleOwnCpu(child)
        }
      })
    ).finally(() => ownCpu?.stop())
    const cpu = cpuSince(cpu0)
    if (run.exitCode !== 0) {
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error'))
      const logFile = path.join(os.tmpdir(), `bench-failed-${Date.now()}.log`)
      fs.writeFileSync(logFile, `${run.stdout}\n--- stderr ---\n${run.stderr}`)
      throw new Error(
        `the action failed (exit ${run.exitCode}, N=${n}, ${config}; its log: ${logFile}):\n${errors.join('\n')}\n${run.stderr.slice(-2000)}`
      )
    }
    const shims = readShimLog(log)
    const waits = slowPathWaits(profiles, topology)
    const trace = fs.existsSync(`${log}.cpu`) ? readCpuLog(`${log}.cpu`, t0) : undefined
    return {
      n,
      config,
      profile,
      topology,
      wallMs: run.durationMs,
      postMs: run.post.durationMs,
      cpu: { ...cpu, actionProcessMs: ownCpu?.ms() },
      peakRssMb: ownCpu?.peakRssMb(),
      ...(trace ? { trace } : {}),
      firstCommandMs: shims.length ? Math.min(...shims.map((s) => s.at)) - t0 : undefined,
      // The slow cluster's configured waits in the guide's order, and overlapped (its load balancer during the
      // installs): what the path cannot go below.
      waitsSlowMs: waits.serialMs,
      overlappedWaitsSlowMs: waits.overlappedMs,
      processes: perCluster(
        shims,
        sim.clusters.map((c) => c.name)
      ),
      behaviourRequests: Object.fromEntries(sim.clusters.map((c) => [c.name, c.requests.filter((r) => r.sim).length])),
      apiRequests: Object.fromEntries(sim.clusters.map((c) => [c.name, c.requests.filter((r) => !r.sim).length])),
      timeline,
      waits: addressWaits(sim, timeline, assignedAt, t0)
    }
  } finally {
    await sim.stop()
    runner.cleanup()
    fs.rmSync(log, { force: true })
    fs.rmSync(`${log}.cpu`, { force: true })
  }
}

/**
 * A command's exit code and output, without blocking this process (it hosts the simulated API servers).
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env: NodeJS.ProcessEnv }} opts
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
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

/** @typedef {Awaited<ReturnType<typeof runBaselineOnce>>} BaselineRun */

/**
 * bench/baseline.sh against fresh clusters: `profiles` all of them (phases install+secrets) or the slow one alone
 * (phase path: the serial limit; phase overlap: the overlapped limit).
 * @param {{ profiles: import('./clusters.js').ClusterProfile[], phases: string, tools: import('./shims.js').Tools, work: string }} o
 */
export async function runBaselineOnce({ profiles, phases, tools, work }) {
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
    const r = await exec('bash', [BASELINE], { env })
    const wallMs = Date.now() - t0
    const cpu = cpuSince(cpu0)
    if (r.code !== 0)
      throw new Error(`baseline.sh failed (exit ${r.code}):\n${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`)
    const marks = r.stdout
      .split('\n')
      .map((l) => /^(\d{16}) (.+)$/.exec(l))
      .filter((m) => m !== null)
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

/**
 * One measurement at a time: after an optional quiet wait, run it; when other processes used more than 10% of the
 * machine meanwhile, run it again (at most `retries` times) and keep the last. A failed or hung run (e.g. a wait that
 * never ends) is a finding, not a reason to lose the whole bench: it is noted and retried. The discarded and failed
 * runs stay in the JSON.
 * @param {{ quietWaitS: number, retries: number, nproc: number, say: (s: string) => void }} o
 */
export function measurer({ quietWaitS, retries, nproc, say }) {
  /** @type {Array<{ label: string } & Record<string, unknown>>} */
  const discarded = []
  /** @type {Array<{ label: string, error: string }>} */
  const failures = []
  /**
   * @template {{ wallMs: number, cpu: import('./machine.js').CpuUse }} R
   * @param {string} label
   * @param {() => Promise<R>} fn
   * @returns {Promise<(R & { othersBefore: number | undefined, disturbed: boolean, attempts: number }) | undefined>}
   */
  const measure = async (label, fn) => {
    for (let attempt = 0; ; attempt++) {
      const othersBefore = quietWaitS > 0 ? await quietMachine(quietWaitS) : undefined
      let r
      try {
        r = { othersBefore, ...(await fn()) }
      } catch (e) {
        const error = String(/** @type {Error} */ (e).message ?? e).split('\n')[0]
        failures.push({ label, error })
        say(`  ${label}: FAILED: ${error}`)
        if (attempt >= retries) return undefined
        continue
      }
      const disturbed = r.cpu.othersMs > 0.1 * r.wallMs * nproc
      if (!disturbed || attempt >= retries) return { ...r, disturbed, attempts: attempt + 1 }
      discarded.push({ label, ...r })
      say(`  ${label}: ${sec(r.wallMs)} s, disturbed (${busy(r)}): again`)
    }
  }
  return { measure, discarded, failures }
}
