// `npm run demo`: two simulated clusters, the bundled action run on them as a workflow step would run it, and what a
// person would see on GitHub: the grouped log, the outputs and the job summary. Stops everything it started.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { startSimulation } from './sim/index.js'
import { makeRunner, runAction, visibleLog } from './harness/action.js'

const dist = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist', 'main', 'index.js')
if (!fs.existsSync(dist)) {
  console.error('dist/ is missing: run `npm run package` first.')
  process.exit(1)
}

const sim = await startSimulation({
  clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'hostname', delayMs: 1500 } }]
})
const runner = makeRunner()
let code = 1
try {
  for (const c of sim.clusters)
    console.log(
      `simulated cluster ${c.name}: API server ${c.url} (reachable from the other clusters at ${c.reachableUrl})`
    )
  const inputs = { clusters: sim.clustersInput(), kubeconfig: sim.kubeconfig(), 'istio-version': '1.30', ...sim.inputs }
  console.log(
    '\nworkflow step:\n  with:\n' +
      Object.entries({ clusters: inputs.clusters, 'istio-version': inputs['istio-version'] })
        .map(([k, v]) => `    ${k}: |\n${String(v).replace(/^/gm, '      ')}`)
        .join('\n')
  )
  console.log('\n──── action log (as GitHub shows it; ::group:: lines are collapsible groups) ────')
  const run = await runAction({ inputs, env: sim.env, runner })
  console.log(visibleLog(run.stdout).replace(/^::debug::.*\n/gm, ''))
  if (run.stderr.trim()) console.log(run.stderr)
  console.log('──── outputs ────')
  for (const [k, v] of Object.entries(run.outputs)) if (k !== 'root-cert') console.log(`${k} = ${v}`)
  console.log(`root-cert = ${run.outputs['root-cert'] ? run.outputs['root-cert'].split('\n')[0] + ' …' : ''}`)
  console.log('\n──── job summary (Markdown) ────')
  console.log(run.summary)
  console.log('──── post step ────')
  console.log(visibleLog(run.post.stdout))
  console.log(`action exit code ${run.exitCode}; mesh built in ${(run.durationMs / 1000).toFixed(1)} s`)
  code = run.exitCode === 0 ? 0 : 1
} finally {
  await sim.stop()
  runner.cleanup()
}
process.exit(code)
