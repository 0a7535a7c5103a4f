#!/usr/bin/env node
// `npm run bench`: the bundled action (dist/, on Node 24, as GitHub runs it) against simulated clusters whose steps
// take realistic time, side by side with the guide's steps as a plain shell script (bench/baseline.sh) against the
// same kind of clusters, and with the limit: the slowest cluster's own critical path, run alone. See bench/README.md.
//
//   node bench/run.js [--runs 3] [--n 2,4,8] [--json] [--out bench/results.json] [--scale 1] [--trace]
//                     [--default-runs 1] [--no-default-config] [--quiet-wait S] [--retries 2] [--no-baseline] [--no-downloads]
//
// Every measurement gets fresh simulated clusters. Times are wall-clock from this process (Date.now() and the shims'
// $EPOCHREALTIME share one clock). Progress goes to stderr; the table to stdout (to stderr with --json, which prints
// the JSON on stdout instead). The parts: bench/lib/ (clusters, shims, runs, downloads, machine, stats, table).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PROFILE, SLOW, clusterProfile } from './lib/clusters.js'
import { measureDownloads } from './lib/downloads.js'
import { distSize, machineInfo } from './lib/machine.js'
import { measurer, runActionOnce, runBaselineOnce } from './lib/runs.js'
import { prepareTools } from './lib/shims.js'
import { summarize } from './lib/stats.js'
import { busy, notes, pathTable, sec, table, traceReport } from './lib/table.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** @param {string[]} argv */
function parseArgs(argv) {
  const opts = {
    runs: 3,
    ns: [2, 4, 8],
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
    const slowProfile = clusterProfile(0, 1, opts.scale)
    /** @type {import('./lib/stats.js').Raw} */
    const raw = { limit: [], action: [], baseline: [], defaultConfig: [] }
    // Warm-up (not counted): page in kubectl, node 24, the bundle and the simulated istioctl.
    await runActionOnce({ n: 2, scale: 0.05, tools, work, dist: opts.dist })
    const { measure, discarded, failures } = measurer({
      quietWaitS: opts.quietWaitS,
      retries: opts.retries,
      nproc: info.nproc,
      say
    })
    /** @param {number} n @param {'bench' | 'default'} config */
    const action = (n, config) => () => runActionOnce({ n, scale: opts.scale, tools, work, dist: opts.dist, config })
    for (let rep = 1; rep <= opts.runs; rep++) {
      const limit = await measure('limit', () =>
        runBaselineOnce({ profiles: [slowProfile], phases: 'path', tools, work })
      )
      if (!limit) throw new Error('the limit could not be measured')
      raw.limit.push({ rep, ...limit })
      say(
        `run ${rep}/${opts.runs}: limit (the slow cluster alone, its critical path) ${sec(limit.wallMs)} s (${busy(limit)})`
      )
      for (const n of opts.ns) {
        const a = await measure(`N=${n} action`, action(n, 'bench'))
        if (a) {
          raw.action.push({ rep, ...a })
          say(
            `run ${rep}/${opts.runs}: N=${n} action ${sec(a.wallMs)} s, cold start ${Math.round(a.firstCommandMs ?? NaN)} ms (${busy(a)})`
          )
          if (opts.trace) say(traceReport(a, limit))
        }
        if (opts.baseline) {
          const profiles = Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale))
          const b = await measure(`N=${n} baseline`, () =>
            runBaselineOnce({ profiles, phases: 'install secrets', tools, work })
          )
          if (b) {
            raw.baseline.push({ rep, ...b })
            say(`run ${rep}/${opts.runs}: N=${n} baseline ${sec(b.wallMs)} s (${busy(b)})`)
          }
        }
        if (opts.defaultConfig && rep <= opts.defaultRuns) {
          const d = await measure(`N=${n} defaults`, action(n, 'default'))
          if (d) {
            raw.defaultConfig.push({ rep, ...d })
            say(
              `run ${rep}/${opts.runs}: N=${n} action with its defaults (ca: generate, verify: remote-clusters) ${sec(d.wallMs)} s (${busy(d)})`
            )
            if (opts.trace) say(traceReport(d, limit))
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
    const dist = distSize(opts.dist)
    const benchSeconds = Math.round((Date.now() - started) / 1000)
    const result = {
      date: new Date().toISOString(),
      machine: info,
      options: {
        runs: opts.runs,
        ns: opts.ns,
        scale: opts.scale,
        profile: PROFILE,
        slowFactor: SLOW,
        clusters: Object.fromEntries(
          opts.ns.map((n) => [n, Array.from({ length: n }, (_, i) => clusterProfile(i, n, opts.scale))])
        )
      },
      dist: { dir: distDir, ...dist },
      rows,
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
      pathTable(rows)
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
