// What a person reads: the table per N, where the slow cluster's time goes, the notes under them, and --trace.
import { PATH_STEPS, stats } from './stats.js'

/** Seconds with one decimal, or — . @param {number | undefined} ms */
export const sec = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(1))
/** "min / median". @param {import('./stats.js').Stats | undefined} s @param {(x: number) => string} [f] */
const mm = (s, f = sec) => (s ? `${f(s.min)} / ${f(s.median)}` : '—')
/** "min–max", or one number. @param {import('./stats.js').Stats | undefined} s */
const fmtProc = (s) => (!s ? '—' : s.min === s.max ? String(s.min) : `${s.min}–${s.max}`)
/** @param {number} x */
const ms = (x) => String(Math.round(x))

/**
 * How busy the machine was during a run.
 * @param {{ cpu: import('./machine.js').CpuUse }} r
 */
export const busy = (r) => `machine ${Math.round(r.cpu.utilisation * 100)}% busy, others ${sec(r.cpu.othersMs)} CPU-s`

/**
 * A Markdown table, each column as wide as its widest cell.
 * @param {string[]} head
 * @param {string[][]} body
 */
function markdown(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  /** @param {string[]} cells */
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

/** A ratio with two decimals, or —. @param {number | undefined} x */
const r2 = (x) => (x === undefined ? '—' : x.toFixed(2))

/**
 * The main table, one row per profile and N: the action against both limits (and the guide's script where it ran).
 * @param {import('./stats.js').Row[]} rows
 */
export function table(rows) {
  const head = [
    'profile',
    'topology',
    'N',
    'action s',
    'serial limit s',
    'overlap limit s',
    'act/serial',
    'act/overlap',
    'baseline s',
    'act/base',
    'overhead s',
    'kubectl/cl',
    'istioctl/cl',
    'cold ms',
    'peak MB',
    'default s'
  ]
  const body = rows.map((r) => [
    r.profile,
    r.topology,
    String(r.n),
    mm(r.actionMs),
    mm(r.limitMs),
    mm(r.overlapLimitMs),
    r2(r.actionOverLimit.median),
    r2(r.actionOverOverlap.median),
    mm(r.baselineMs),
    r2(r.actionOverBaseline.median),
    mm(r.actionOverheadMs),
    `${fmtProc(r.kubectlPerCluster.action)} vs ${fmtProc(r.kubectlPerCluster.baseline)}`,
    `${fmtProc(r.istioctlPerCluster.action)} vs ${fmtProc(r.istioctlPerCluster.baseline)}`,
    mm(r.coldStartMs, ms),
    r.peakRssMb ? String(r.peakRssMb.median) : '—',
    mm(r.defaultConfigMs)
  ])
  return markdown(head, body)
}

/** "total (per cluster)". @param {number | undefined} x @param {number} n */
const per = (x, n) => (x === undefined ? '—' : `${Math.round(x)} (${(x / n).toFixed(1)})`)

/**
 * The topologies side by side (one profile), per N: the action's wall time, kubectl + istioctl processes, API
 * requests (per cluster in brackets) and peak memory, and the slow cluster's derived waits of each.
 * @param {import('./stats.js').Row[]} rows
 * @param {string} profile
 */
export function topologyTable(rows, profile) {
  const mine = rows.filter((r) => r.profile === profile)
  const topologies = [...new Set(mine.map((r) => r.topology))]
  const cols = /** @type {Array<[string, (r: import('./stats.js').Row) => string]>} */ ([
    ['wall s', (r) => sec(r.actionMs?.median)],
    ['waits s', (r) => `${sec(r.simulatedWaitsMs)} / ${sec(r.overlappedWaitsMs)}`],
    ['processes', (r) => per(r.processesTotal?.median, r.n)],
    ['API requests', (r) => per(r.apiRequestsTotal?.median, r.n)],
    ['peak MB', (r) => (r.peakRssMb ? String(r.peakRssMb.median) : '—')]
  ])
  const head = ['N', ...cols.flatMap(([c]) => topologies.map((t) => `${c} ${t}`))]
  const body = [...new Set(mine.map((r) => r.n))].map((n) => [
    String(n),
    ...cols.flatMap(([, f]) =>
      topologies.map((t) => {
        const r = mine.find((x) => x.n === n && x.topology === t)
        return r?.actionMs ? f(r) : '—'
      })
    )
  ])
  return markdown(head, body)
}

/**
 * Growth with N (one profile and topology): per N the medians, per cluster in brackets; then the fitted exponent and its verdict.
 * @param {import('./stats.js').Row[]} rows
 * @param {ReturnType<typeof import('./stats.js').growth>} g
 */
export function growthTable(rows, g) {
  const mine = rows.filter((r) => r.profile === g.profile && r.topology === g.topology && r.actionMs)
  const head = [
    'N',
    'wall s',
    'kubectl+istioctl (per cluster)',
    'API requests (per cluster)',
    'peak RSS MB',
    'istioctl install CPU ms/call',
    'kubectl CPU ms/call (mean)'
  ]
  const body = mine.map((r) => [
    String(r.n),
    sec(r.actionMs?.median),
    per(r.processesTotal?.median, r.n),
    per(r.apiRequestsTotal?.median, r.n),
    r.peakRssMb ? String(r.peakRssMb.median) : '—',
    r.cpuPerCall.istioctl.install ? ms(r.cpuPerCall.istioctl.install.median) : '—',
    r.cpuPerCall.kubectlMeanMs ? ms(r.cpuPerCall.kubectlMeanMs.median) : '—'
  ])
  /** @param {{ exponent: number | undefined, verdict: string }} v */
  const k = (v) => (v.exponent === undefined ? v.verdict : `N^${v.exponent.toFixed(2)}: ${v.verdict}`)
  body.push(['growth', k(g.wallMs), k(g.processes), k(g.apiRequests), k(g.peakRssMb), '', ''])
  return markdown(head, body)
}

/**
 * Where the time goes: the slow cluster's critical path, median ms per part, the action next to both limits.
 * @param {import('./stats.js').Row[]} rows
 */
export function pathTable(rows) {
  const parts = ['startup', ...PATH_STEPS, 'after']
  const head = [
    'run',
    ...parts.map((p) =>
      p
        .replace('eastwest-gateway', 'gateway install')
        .replace('gateway-address', 'address wait')
        .replace('root-of-trust', 'cacerts')
    ),
    'total'
  ]
  /** @param {string} label @param {import('./stats.js').CriticalPath | undefined} p */
  const line = (label, p) => {
    /** @param {string} k */
    const part = (k) => p?.[k]
    return [
      label,
      ...parts.map((k) => (part(k) === undefined || Number.isNaN(part(k)) ? '—' : sec(part(k)))),
      sec(parts.reduce((a, k) => a + (Number.isFinite(part(k)) ? /** @type {number} */ (part(k)) : 0), 0))
    ]
  }
  const body = []
  for (const profile of [...new Set(rows.map((r) => r.profile))]) {
    const mine = rows.filter((r) => r.profile === profile)
    if (mine[0]?.slowPath.limit) body.push(line(`${profile}: serial limit`, mine[0].slowPath.limit))
    if (mine[0]?.slowPath.overlapLimit) body.push(line(`${profile}: overlap limit`, mine[0].slowPath.overlapLimit))
    for (const r of mine.filter((x) => x.actionMs)) {
      const t = r.topology === 'multi-primary' ? '' : ` ${r.topology}`
      body.push(line(`${profile}: action${t} N=${r.n}`, r.slowPath.action))
    }
    for (const r of mine.filter((x) => x.slowPath.defaultConfig))
      body.push(line(`${profile}: defaults N=${r.n}`, r.slowPath.defaultConfig))
  }
  return markdown(head, body)
}

/**
 * The notes under the table: what each column means and what else the bench measured.
 * @param {{ rows: import('./stats.js').Row[], downloads: Awaited<ReturnType<typeof import('./downloads.js').measureDownloads>>,
 *   dist: ReturnType<typeof import('./machine.js').distSize>, info: ReturnType<typeof import('./machine.js').machineInfo>,
 *   failures: Array<{ label: string, error: string }>, discarded: Array<{ label: string }>, benchSeconds: number }} o
 */
export function notes({ rows, downloads, dist, info, failures, discarded, benchSeconds }) {
  const first = rows[0]
  const last = rows.at(-1)
  return [
    '',
    `serial limit: the slow cluster alone (namespace → control plane → gateway → address) by bench/baseline.sh`,
    `overlap limit: the same, with the gateway's LoadBalancer Service created right after the namespace (PHASES=overlap): max(installs, load balancer)`,
    ...[...new Set(rows.map((r) => r.profile))].map((p) => {
      const r = rows.find((x) => x.profile === p)
      return `  ${p}: the slow cluster's simulated waits: serial ${sec(r?.simulatedWaitsMs)} s (install + install + LB), overlapped ${sec(r?.overlappedWaitsMs)} s (max(installs, LB))`
    }),
    `action: ca: none, verify: none (as the guide's script); "default s": the action's defaults (ca: generate, verify: remote-clusters)`,
    ...(rows.some((r) => r.topology === 'primary-remote')
      ? [
          `primary-remote (c1 primary, the others its remotes, each on its own network): the action only; the guide's script, both limits and the defaults model multi-primary ("—"). Its waits are the slow remote's derived path, primary control plane → gateway → address → remote control plane → gateway → address (serial / with each load balancer overlapped)`
        ]
      : []),
    `overhead: action wall time − the slow cluster's simulated waits (install + install + LB); the limit's own: ${mm(first?.limitOverheadMs)} s`,
    `address wait: reacts ${mm(stats(rows.flatMap((r) => r.addressWait.reactionMs?.samples ?? [])), ms)} ms (min / median) after the LB assigns it; ${fmtProc(stats(rows.flatMap((r) => r.addressWait.serviceRequests?.samples ?? [])))} Service request(s) per wait`,
    ...downloads.map((d) => `downloads: ${d.run}: ${d.bytes} bytes (${d.requests} requests)`),
    ...rows
      .filter((r) => r.cpuPerCall.istioctl.install)
      .slice(0, 1)
      .map(
        (r) =>
          `CPU per call (median, ${r.profile} N=${r.n}): ${Object.entries(r.cpuPerCall.istioctl)
            .map(([k, v]) => `istioctl ${k} ${mm(v, ms)} ms`)
            .join(', ')} (min / median); kubectl ${mm(r.cpuPerCall.kubectlMeanMs, ms)} ms (mean per process)`
      ),
    `CPU per run at N=${last?.n} (median): tools ${sec(last?.cpu.action.toolsMs?.median)} s (of which the action's node process ${sec(last?.cpu.action.actionProcessMs?.median)} s), simulated API servers ${sec(last?.cpu.action.serverMs?.median)} s; the limit: ${sec(first?.cpu.limit.toolsMs?.median)} + ${sec(first?.cpu.limit.serverMs?.median)} s`,
    `failed runs (each retried): ${failures.length}${failures.map((f) => `\n  ${f.label}: ${f.error}`).join('')}`,
    `runs repeated because other processes used > 10% of the machine: ${discarded.length}${discarded.length ? ` (${discarded.map((d) => d.label).join(', ')})` : ''}`,
    `dist/: main ${dist.mainBytes} bytes, post ${dist.postBytes} bytes, ${dist.totalBytes} bytes in all`,
    `machine: ${info.nproc} × ${info.cpu}, ${info.memoryGiB} GiB; action on Node ${info.node24}; kubectl ${info.kubectl}; bench took ${benchSeconds} s`
  ].join('\n')
}

/**
 * --trace: where the time of one action run went, next to the limit's.
 * @param {import('./runs.js').ActionRun} a
 * @param {import('./runs.js').BaselineRun} limit
 */
export function traceReport(a, limit) {
  const out = []
  const slow = 'slow'
  /** @type {Map<string, { start?: number, end?: number }>} */
  const steps = new Map()
  for (const e of a.timeline.filter((e) => e.cluster === slow)) {
    const s = steps.get(e.step) ?? {}
    if (e.event === 'start') s.start = e.at
    else s.end = e.at
    steps.set(e.step, s)
  }
  out.push(
    `  action N=${a.n} (${a.config}), cluster ${slow}: ` +
      [...steps].map(([k, v]) => `${k} ${sec(v.start)}→${sec(v.end)}`).join(', ')
  )
  const m = limit.marks
  out.push(
    `  limit: ` +
      m
        .slice(0, -1)
        .map((x, i) => `${x.what.replace(/^slow /, '')} ${sec(x.at)}→${sec(m[i + 1].at)}`)
        .join(', ')
  )
  /** @param {import('./shims.js').TracedCommand[] | undefined} trace */
  const byKind = (trace) => {
    /** @type {Map<string, { n: number, cpu: number, wall: number }>} */
    const agg = new Map()
    for (const t of trace ?? []) {
      const k = `${t.tool} ${t.what}`
      const v = agg.get(k) ?? { n: 0, cpu: 0, wall: 0 }
      v.n++
      v.cpu += t.cpuMs
      v.wall += t.endMs - t.startMs
      agg.set(k, v)
    }
    return [...agg]
      .sort((x, y) => y[1].cpu - x[1].cpu)
      .map(([k, v]) => `${k} ×${v.n}: cpu ${sec(v.cpu)} s, wall ${sec(v.wall / v.n)} s each`)
  }
  /** @param {import('./shims.js').TracedCommand[]} trace */
  const commands = (trace) =>
    trace.map((t) => `${t.tool} ${t.what} ${sec(t.startMs)}→${sec(t.endMs)} (cpu ${t.cpuMs} ms)`).join('; ')
  out.push(
    `  action CPU: its node process ${sec(a.cpu.actionProcessMs)} s, tools+action ${sec(a.cpu.toolsMs)} s, API servers ${sec(a.cpu.serverMs)} s, others ${sec(a.cpu.othersMs)} s, machine ${Math.round(a.cpu.utilisation * 100)}% busy`
  )
  for (const l of byKind(a.trace)) out.push(`    ${l}`)
  out.push(`  limit CPU: tools ${sec(limit.cpu.toolsMs)} s, API server ${sec(limit.cpu.serverMs)} s`)
  for (const l of byKind(limit.trace)) out.push(`    ${l}`)
  out.push(`  limit commands: ` + commands(limit.trace ?? []))
  out.push(`  action commands on ${slow}: ` + commands((a.trace ?? []).filter((t) => t.cluster === slow)))
  return out.join('\n')
}
