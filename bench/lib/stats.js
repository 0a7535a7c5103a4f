// From the runs of a bench to its figures: medians and ranges per N, ratios, the slow cluster's critical path.

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
 * The same for the limit (bench/baseline.sh PHASES=path).
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
 * @property {Array<import('./runs.js').BaselineRun & { rep: number }>} limit
 * @property {Array<import('./runs.js').ActionRun & { rep: number }>} action
 * @property {Array<import('./runs.js').BaselineRun & { rep: number }>} baseline
 * @property {Array<import('./runs.js').ActionRun & { rep: number }>} defaultConfig
 */

/** @typedef {ReturnType<typeof summarize>[number]} Row */

/**
 * One row of figures per N.
 * @param {Raw} raw
 * @param {{ ns: number[] }} opts
 */
export function summarize(raw, opts) {
  const limit = stats(raw.limit.map((r) => r.wallMs))
  return opts.ns.map((n) => {
    const act = raw.action.filter((r) => r.n === n)
    const base = raw.baseline.filter((r) => r.n === n)
    const def = raw.defaultConfig.filter((r) => r.n === n)
    const action = stats(act.map((r) => r.wallMs))
    const baseline = stats(base.map((r) => r.wallMs))
    /** @param {Array<{ processes: Record<string, Record<string, number>> }>} runs @param {string} tool */
    const procs = (runs, tool) => stats(runs.flatMap((r) => Object.values(r.processes).map((p) => p[tool])))
    const waits = act.flatMap((r) => r.waits)
    /** @param {Array<{ cpu: import('./machine.js').CpuUse & { actionProcessMs?: number } }>} runs */
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
  })
}
