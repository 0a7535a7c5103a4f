#!/usr/bin/env node
// `npm run bench`: the bundled action (dist/, on Node 24, as GitHub runs it) against simulated clusters whose steps
// take realistic time, side by side with the guide's steps as a plain shell script (bench/baseline.sh) against the
// same kind of clusters, and with the limit: the slowest cluster's own critical path, run alone. See bench/README.md.
//
//   node bench/run.js [--runs 3] [--n 2,4,8] [--profiles today,cloud] [--short] [--json] [--out bench/results.json]
//                     [--scale 1] [--trace] [--default-runs 1] [--no-default-config] [--quiet-wait S] [--retries 2]
//                     [--no-baseline] [--no-downloads] [--topologies multi-primary,primary-remote]
//   --short (or BENCH_SHORT=1): one run of N = 2, 4, 8, 16, 32, today's profile, no baseline or defaults: growth.
//   --topologies: the action in each (bench/lib/topology.js; default multi-primary only); the guide's script, the
//   limits and the default inputs stay multi-primary.
//
// Every measurement gets fresh simulated clusters. Times are wall-clock from this process (Date.now() and the shims'
// $EPOCHREALTIME share one clock). Progress goes to stderr; the table to stdout (to stderr with --json, which prints
// the JSON on stdout instead). The parts: bench/lib/ (clusters, shims, runs, downloads, machine, stats, table).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PROFILES, SLOW, clusterProfile } from './lib/clusters.js'
import { measureDownloads } from './lib/downloads.js'
import { distSize, machineInfo } from './lib/machine.js'
import { measurer, runActionOnce, runBaselineOnce } from './lib/runs.js'
import { prepareTools } from './lib/shims.js'
import { TOPOLOGIES } from './lib/topology.js'
import { growth, summarize } from './lib/stats.js'
import { busy, growthTable, notes, pathTable, sec, table, topologyTable, traceReport } from './lib/table.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** @param {string[]} argv */
function parseArgs(argv) {
  const opts = {
    runs: 3,
    ns: [2, 4, 8],
    /** @type {import('./lib/clusters.js').ProfileName[]} */
    profiles: ['today', 'cloud'],
    /** @type {import('./lib/topology.js').Topology[]} */
    topologies: ['multi-primary'],
    json: false,
    out: path.join(ROOT, 'bench', 'results.json'),
    scale: 1,
    trace: false,
    defaultConfig: true,
    defaultRuns: 1,
    quietWaitS: 0,
    retries: 2,
    downloads: true,
    baseline: true,
    dist: process.env.ACTION_DIST || path.join(ROOT, 'dist')
  }
  const short = () => {
    Object.assign(opts, { runs: 1, ns: [2, 4, 8, 16, 32], profiles: ['today'], baseline: false, defaultConfig: false })
  }
  if (process.env.BENCH_SHORT === '1') short()
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--runs') opts.runs = Number(next())
    else if (a === '--n') opts.ns = next().split(',').map(Number)
    else if (a === '--short') short()
    else if (a === '--profiles')
      opts.profiles = /** @type {import('./lib/clusters.js').ProfileName[]} */ (next().split(','))
    else if (a === '--topologies')
      opts.topologies = /** @type {import('./lib/topology.js').Topology[]} */ (next().split(','))
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
      // The comment at the top of this file, without the shebang.
      const usage = fs
        .readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .slice(1)
      process.stdout.write(
        `${usage
          .slice(
            0,
            usage.findIndex((l) => !l.startsWith('//'))
          )
          .join('\n')}\n`
      )
      process.exit(0)
    } else throw new Error(`unknown option ${a}`)
  }
  if (!(opts.runs >= 1) || opts.ns.some((n) => !Number.isInteger(n) || n < 2 || n > 253) || !(opts.scale > 0))
    throw new Error('bad --runs, --n (each 2…253) or --scale')
  if (!opts.profiles.length || opts.profiles.some((p) => !(p in PROFILES)))
    throw new Error(`bad --profiles: each one of ${Object.keys(PROFILES).join(', ')}`)
  if (!opts.topologies.length || opts.topologies.some((t) => !TOPOLOGIES.includes(t)))
    throw new Error(`bad --topologies: each one of ${TOPOLOGIES.join(', ')}`)
  return opts
}

async function main() {
  const opts = parseArgs(process.argv.slice(2))
  const say = (/** @type {string} */ s) => process.stderr.write(`${s}\n`)
  const started = Date.now()
  if (!fs.existsSync(path.join(opts.dist, 'main', 'index.js')))
    throw new Error(`${opts.dist}/main/index.js is missing: run npm run package (or set ACTION_DIST)`)
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'istio-mc-bench-'))
  try {
    const tools = await prepareTools(work, opts.trace)
    const info = machineInfo(tools.realKubectl)
    const distDir = path.relative(ROOT, opts.dist) || opts.dist
    say(
      `bench: ${info.nproc} × ${info.cpu}, Node ${info.node24} (action), kubectl ${info.kubectl}; ${opts.runs} run(s) of N = ${opts.ns.join(', ')}; dist ${distDir}`
    )
    /** @type {import('./lib/stats.js').Raw} */
    const raw = { limit: [], overlapLimit: [], action: [], baseline: [], defaultConfig: [] }
    // Warm-up (not counted): page in kubectl, node 24, the bundle and the simulated istioctl.
    await runActionOnce({ n: 2, scale: 0.05, tools, work, dist: opts.dist })
    const { measure, discarded, failures } = measurer({
      quietWaitS: opts.quietWaitS,
      retries: opts.retries,
      nproc: info.nproc,
      say
    })
    for (let rep = 1; rep <= opts.runs; rep++) {
      for (const profile of opts.profiles) {
        const slowProfile = clusterProfile(0, 1, opts.scale, profile)
        /** @param {number} n @param {'bench' | 'default'} config @param {import('./lib/topology.js').Topology} [topology] */
        const action = (n, config, topology) => () =>
          runActionOnce({ n, scale: opts.scale, tools, work, dist: opts.dist, config, profile, topology })
        const tag = `run ${rep}/${opts.runs} ${profile}:`
        const limit = await measure(`${profile} serial limit`, () =>
          runBaselineOnce({ profiles: [slowProfile], phases: 'path', tools, work })
        )
        if (!limit) throw new Error('the serial limit could not be measured')
        raw.limit.push({ rep, profile, ...limit })
        say(`${tag} serial limit (the slow cluster alone, its critical path) ${sec(limit.wallMs)} s (${busy(limit)})`)
        const overlap = await measure(`${profile} overlap limit`, () =>
          runBaselineOnce({ profiles: [slowProfile], phases: 'overlap', tools, work })
        )
        if (overlap) {
          raw.overlapLimit.push({ rep, profile, ...overlap })
          say(`${tag} overlap limit (its Service first: installs and load balancer at once) ${sec(overlap.wallMs)} s`)
        }
        for (const n of opts.ns) {
          for (const topology of opts.topologies) {
            const t = topology === 'multi-primary' ? '' : ` ${topology}`
            const a = await measure(`${profile} N=${n}${t} action`, action(n, 'bench', topology))
            if (a) {
              raw.action.push({ rep, ...a })
              say(
                `${tag} N=${n}${t} action ${sec(a.wallMs)} s, cold start ${Math.round(a.firstCommandMs ?? NaN)} ms, peak ${a.peakRssMb} MB (${busy(a)})`
              )
              if (opts.trace) say(traceReport(a, limit))
            }
          }
          // The guide's script and the default inputs: today's profile only (the script's order is the serial path).
          if (profile !== 'today') continue
          if (opts.baseline) {
            const profiles = Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale, profile))
            const b = await measure(`N=${n} baseline`, () =>
              runBaselineOnce({ profiles, phases: 'install secrets', tools, work })
            )
            if (b) {
              raw.baseline.push({ rep, profile, ...b })
              say(`${tag} N=${n} baseline ${sec(b.wallMs)} s (${busy(b)})`)
            }
          }
          if (opts.defaultConfig && rep <= opts.defaultRuns && opts.topologies.includes('multi-primary')) {
            const d = await measure(`N=${n} defaults`, action(n, 'default'))
            if (d) {
              raw.defaultConfig.push({ rep, ...d })
              say(
                `${tag} N=${n} action with its defaults (ca: generate, verify: remote-clusters) ${sec(d.wallMs)} s (${busy(d)})`
              )
              if (opts.trace) say(traceReport(d, limit))
            }
          }
        }
      }
    }
    const downloads = opts.downloads ? await measureDownloads({ tools, work, dist: opts.dist }) : []
    for (const d of downloads)
      say(
        `downloads: ${d.run}: ${d.bytes} bytes in ${d.requests} request(s); first command after ${Math.round(d.firstCommandMs ?? NaN)} ms`
      )

    const rows = summarize(raw, opts)
    const grows = opts.profiles.flatMap((p) => opts.topologies.map((t) => growth(rows, p, t)))
    const dist = distSize(opts.dist)
    const benchSeconds = Math.round((Date.now() - started) / 1000)
    const result = {
      date: new Date().toISOString(),
      machine: info,
      options: {
        runs: opts.runs,
        ns: opts.ns,
        topologies: opts.topologies,
        scale: opts.scale,
        profiles: Object.fromEntries(opts.profiles.map((p) => [p, PROFILES[p]])),
        slowFactor: SLOW,
        clusters: Object.fromEntries(
          opts.profiles.map((p) => [
            p,
            Object.fromEntries(
              opts.ns.map((n) => [n, Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale, p))])
            )
          ])
        )
      },
      dist: { dir: distDir, ...dist },
      rows,
      growth: grows,
      downloads,
      benchSeconds,
      discarded,
      failures,
      raw
    }
    const text = [
      table(rows),
      notes({ rows, downloads, dist, info, failures, discarded, benchSeconds }),
      '',
      `Where the time goes: the slow cluster's critical path, median s per part ("after": from its address to the end)`,
      pathTable(rows),
      ...(opts.topologies.length > 1 || opts.topologies[0] !== 'multi-primary'
        ? opts.profiles.flatMap((p) => [
            '',
            `Topologies side by side (${p}; the action, medians; per cluster in brackets; waits: the slow cluster's derived path, serial / overlapped)`,
            topologyTable(rows, p)
          ])
        : []),
      ...grows.flatMap((g) => [
        '',
        `Growth with N (${g.profile}, ${g.topology}; medians; the exponent k of a fit value ≈ c·N^k, linear or better when k ≤ 1.1)`,
        growthTable(rows, g)
      ])
    ].join('\n')
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

main().catch((e) => {
  process.stderr.write(`bench: ${e.stack || e}\n`)
  process.exit(1)
})
