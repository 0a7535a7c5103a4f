// From the runs of a bench to its figures: medians and ranges per profile and N, ratios to both limits, the slow
// cluster's critical path, CPU per call, and how the figures grow with N.
import { growthVerdict } from './growth.js'

/** @param {number[]} xs */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** @typedef {{ min: number, median: number, max: number, samples: number[] }} Stats */

/**
 * Min, median and max of the numbers among `xs`; undefined when there are none.
 * @param {Array<number | undefined>} xs
 * @returns {Stats | undefined}
 */
export const stats = (xs) => {
  const v = /** @type {number[]} */ (xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)))
  return v.length ? { min: Math.min(...v), median: median(v), max: Math.max(...v), samples: v } : undefined
}

/** @param {number | undefined} a @param {number | undefined} b */
const ratio = (a, b) => (a && b ? a / b : undefined)

/** The steps of one cluster's critical path, by kind (src/plan.ts). */
export const PATH_STEPS = ['namespace', 'root-of-trust', 'control-plane', 'eastwest-gateway', 'gateway-address']

/** @typedef {Record<string, number | undefined>} CriticalPath ms per part: startup, each of PATH_STEPS, after */

/** `a - b`, NaN when either is missing. @param {number | undefined} a @param {number | undefined} b */
const minus = (a, b) => (a === undefined || b === undefined ? NaN : a - b)

/**
 * The slow cluster's critical path in one action run: start-up, each step, and what came after its address (ms).
 * @param {import('./runs.js').ActionRun} run
 * @returns {CriticalPath}
 */
export function actionPath(run) {
  /** @param {string} step @param {string} event */
  const ev = (step, event) => run.timeline.find((e) => e.cluster === 'slow' && e.step === step && e.event === event)?.at
  /** @type {CriticalPath} */
  const out = { startup: ev('namespace', 'start') }
  for (const k of PATH_STEPS) if (ev(k, 'start') !== undefined) out[k] = minus(ev(k, 'ok'), ev(k, 'start'))
  out.after = minus(run.wallMs, ev('gateway-address', 'ok'))
  return out
}

/**
 * The same for a limit (bench/baseline.sh PHASES=path or overlap; with overlap, "namespace" includes creating the
 * gateway's Service).
 * @param {import('./runs.js').BaselineRun} run
 * @returns {CriticalPath}
 */
export function limitPath(run) {
  /** @param {string} what */
  const at = (what) => run.marks.find((m) => m.what === `slow ${what}`)?.at
  return {
    startup: at('namespace'),
    namespace: minus(at('control-plane'), at('namespace')),
    'control-plane': minus(at('eastwest-gateway'), at('control-plane')),
    'eastwest-gateway': minus(at('gateway-address'), at('eastwest-gateway')),
    'gateway-address': minus(at('address-seen'), at('gateway-address')),
    after: minus(run.wallMs, run.marks.find((m) => m.what === 'done')?.at)
  }
}

/**
 * Part by part, the median over runs.
 * @param {CriticalPath[]} paths
 * @returns {CriticalPath}
 */
function medianPath(paths) {
  const keys = [...new Set(paths.flatMap((p) => Object.keys(p)))]
  return Object.fromEntries(
    keys.map((k) => [
      k,
      Math.round(median(/** @type {number[]} */ (paths.map((p) => p[k]).filter((x) => typeof x === 'number'))))
    ])
  )
}

/**
 * @typedef {object} Raw every run kept, by what it measured
 * @property {Array<import('./runs.js').BaselineRun & { rep: number, profile: string }>} limit the serial limits
 * @property {Array<import('./runs.js').BaselineRun & { rep: number, profile: string }>} overlapLimit
 * @property {Array<import('./runs.js').ActionRun & { rep: number }>} action
 * @property {Array<import('./runs.js').BaselineRun & { rep: number, profile?: string }>} baseline
 * @property {Array<import('./runs.js').ActionRun & { rep: number }>} defaultConfig
 */

/** @typedef {ReturnType<typeof summarizeOne>} Row */

/**
 * CPU per istioctl call (ms), by command (`install`, `create-remote-secret`), over the runs' traces; and the mean CPU
 * of a kubectl: what the tools used, less the action's own process and istioctl, over the kubectl processes.
 * @param {Array<import('./runs.js').ActionRun>} runs
 */
export function cpuPerCall(runs) {
  /** @type {Record<string, number[]>} */
  const byWhat = {}
  /** @type {number[]} */
  const kubectlMean = []
  for (const r of runs) {
    const istioctl = (r.trace ?? []).filter((t) => t.tool === 'istioctl')
    for (const t of istioctl) (byWhat[t.what.split(' ')[0]] ??= []).push(t.cpuMs)
    const kubectls = Object.values(r.processes).reduce((a, p) => a + p.kubectl, 0)
    const istioctlMs = istioctl.reduce((a, t) => a + t.cpuMs, 0)
    if (kubectls && r.cpu.actionProcessMs !== undefined && istioctl.length)
      kubectlMean.push((r.cpu.toolsMs - r.cpu.actionProcessMs - istioctlMs) / kubectls)
  }
  return {
    istioctl: Object.fromEntries(Object.entries(byWhat).map(([k, v]) => [k, stats(v)])),
    kubectlMeanMs: stats(kubectlMean)
  }
}

/** A run's topology; runs from before topologies existed are multi-primary. @param {{ topology?: string }} r */
const topologyOf = (r) => r.topology ?? 'multi-primary'

/**
 * One row of figures per profile, topology and N.
 * @param {Raw} raw
 * @param {{ ns: number[], profiles?: string[], topologies?: string[] }} opts
 */
export function summarize(raw, opts) {
  return (opts.profiles ?? ['today']).flatMap((profile) =>
    (opts.topologies ?? ['multi-primary']).flatMap((topology) =>
      opts.ns.map((n) => summarizeOne(raw, profile, n, topology))
    )
  )
}

/**
 * The guide's script, the limits and the default-input runs model multi-primary (bench/baseline.sh): another
 * topology's row has the action's figures only.
 * @param {Raw} raw
 * @param {string} profile
 * @param {number} n
 * @param {string} topology
 */
function summarizeOne(raw, profile, n, topology) {
  const of = (/** @type {{ profile?: string }} */ r) => (r.profile ?? 'today') === profile
  const mp = topology === 'multi-primary'
  const limits = mp ? raw.limit.filter(of) : []
  const overlaps = mp ? (raw.overlapLimit ?? []).filter(of) : []
  const limit = stats(limits.map((r) => r.wallMs))
  const overlapLimit = stats(overlaps.map((r) => r.wallMs))
  const act = raw.action.filter((r) => r.n === n && of(r) && topologyOf(r) === topology)
  const base = mp ? raw.baseline.filter((r) => r.n === n && of(r)) : []
  const def = mp ? raw.defaultConfig.filter((r) => r.n === n && of(r)) : []
  const action = stats(act.map((r) => r.wallMs))
  const baseline = stats(base.map((r) => r.wallMs))
  /** @param {Array<{ processes: Record<string, Record<string, number>> }>} runs @param {string} tool */
  const procs = (runs, tool) => stats(runs.flatMap((r) => Object.values(r.processes).map((p) => p[tool])))
  /** @param {Record<string, number>} perCluster */
  const sum = (perCluster) => Object.values(perCluster).reduce((a, b) => a + b, 0)
  const waits = act.flatMap((r) => r.waits)
  /** @param {Array<{ cpu: import('./machine.js').CpuUse & { actionProcessMs?: number } }>} runs */
  const cpu = (runs) => ({
    toolsMs: stats(runs.map((r) => r.cpu.toolsMs)),
    serverMs: stats(runs.map((r) => r.cpu.serverMs)),
    actionProcessMs: stats(runs.map((r) => r.cpu.actionProcessMs)),
    othersMs: stats(runs.map((r) => r.cpu.othersMs))
  })
  return {
    profile,
    topology,
    n,
    slowPath: {
      action: medianPath(act.map(actionPath)),
      defaultConfig: def.length ? medianPath(def.map(actionPath)) : undefined,
      limit: limits.length ? medianPath(limits.map(limitPath)) : undefined,
      overlapLimit: overlaps.length ? medianPath(overlaps.map(limitPath)) : undefined
    },
    cpu: { action: cpu(act), baseline: base.length ? cpu(base) : undefined, limit: cpu(limits) },
    cpuPerCall: cpuPerCall(act),
    actionMs: action,
    baselineMs: baseline,
    limitMs: limit,
    overlapLimitMs: overlapLimit,
    defaultConfigMs: stats(def.map((r) => r.wallMs)),
    actionOverLimit: { median: ratio(action?.median, limit?.median), min: ratio(action?.min, limit?.min) },
    actionOverOverlap: {
      median: ratio(action?.median, overlapLimit?.median),
      min: ratio(action?.min, overlapLimit?.min)
    },
    overlapOverLimit: ratio(overlapLimit?.median, limit?.median),
    actionOverBaseline: { median: ratio(action?.median, baseline?.median), min: ratio(action?.min, baseline?.min) },
    targetActionOverBaseline: (1 / n) * 1.2,
    simulatedWaitsMs: act[0]?.waitsSlowMs,
    overlappedWaitsMs: act[0]?.overlappedWaitsSlowMs,
    actionOverheadMs: stats(act.map((r) => r.wallMs - r.waitsSlowMs)),
    limitOverheadMs: stats(limits.map((r) => r.wallMs - r.waitsSlowMs)),
    kubectlPerCluster: { action: procs(act, 'kubectl'), baseline: procs(base, 'kubectl') },
    istioctlPerCluster: { action: procs(act, 'istioctl'), baseline: procs(base, 'istioctl') },
    processesTotal: stats(act.map((r) => Object.values(r.processes).reduce((a, p) => a + p.kubectl + p.istioctl, 0))),
    apiRequestsTotal: stats(act.map((r) => sum(r.apiRequests))),
    peakRssMb: stats(act.map((r) => r.peakRssMb)),
    // Every istioctl command asks /sim/v1/behaviour once: a second count, independent of the shim.
    istioctlShimMatchesApiServers: act.every((r) =>
      Object.entries(r.processes).every(([c, p]) => p.istioctl === r.behaviourRequests[c])
    ),
    coldStartMs: stats(act.map((r) => r.firstCommandMs)),
    addressWait: {
      reactionMs: stats(waits.map((w) => w.reactionMs)),
      serviceRequests: stats(waits.map((w) => w.serviceRequests)),
      assignedBeforeWait: waits.filter((w) => w.assignedBeforeWait).length,
      waits: waits.length
    }
  }
}

/**
 * How the action's figures grow with N (one profile and topology): medians per N and the fitted exponent of each.
 * @param {Row[]} rows
 * @param {string} [profile]
 * @param {string} [topology]
 */
export function growth(rows, profile = 'today', topology = 'multi-primary') {
  const mine = rows.filter((r) => r.profile === profile && topologyOf(r) === topology && r.actionMs)
  /** @param {(r: Row) => number | undefined} f */
  const fit = (f) => growthVerdict(mine.map((r) => ({ n: r.n, value: f(r) })))
  return {
    profile,
    topology,
    ns: mine.map((r) => r.n),
    processes: fit((r) => r.processesTotal?.median),
    apiRequests: fit((r) => r.apiRequestsTotal?.median),
    wallMs: fit((r) => r.actionMs?.median),
    peakRssMb: fit((r) => r.peakRssMb?.median)
  }
}
