// End to end: a runner whose $KUBECONFIG has a current context that names a namespace (what `kubectl config
// set-context --current --namespace=default` leaves). Without -n, istioctl create-remote-secret writes the secret into
// that namespace (istioctl/pkg/multicluster/options.go), where no istiod looks for it (it reads its own namespace only).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { runCommand } from '../test/harness/spawn.js'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>

describe('e2e: $KUBECONFIG whose current context names a namespace', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let run: Run

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    // One file per cluster (client-go reads only a file's first document); the first one's current context, cluster1,
    // has `namespace: default`. The clusters come from $KUBECONFIG: no "kubeconfig" input.
    const file = (name: string, namespace?: string) => {
      const f = path.join(runner.home, `kubeconfig-${name}`)
      const text = sim.kubeconfig([name])
      fs.writeFileSync(
        f,
        namespace ? text.replace(`    user: "${name}"\n`, `    user: "${name}"\n    namespace: ${namespace}\n`) : text,
        { mode: 0o600 }
      )
      return f
    }
    const kubeconfig = `${file('cluster1', 'default')}:${file('cluster2')}`
    expect(fs.readFileSync(kubeconfig.split(':')[0], 'utf8')).toContain('    namespace: default\n')
    // A short verify-timeout: without the fix, verify waits for peers that never appear.
    const inputs = { clusters: sim.clustersInput(), 'istio-version': '1.30', 'verify-timeout': '45s', ...sim.inputs }
    run = await runAction({ inputs, env: { ...sim.env, KUBECONFIG: kubeconfig }, runner })
  }, 240_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('succeeds and verifies the mesh', () => {
    if (run.exitCode !== 0) console.log(run.stdout, run.stderr)
    expect(run.exitCode).toBe(0)
    expect(run.outputs.verified).toBe('true')
  })

  it('puts every remote secret, and the reader service account behind it, in istio-system and nowhere else', () => {
    for (const c of sim.clusters) {
      const remote = c.store
        .list('v1', 'Secret')
        .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
      const others = sim.clusters.filter((o) => o !== c).map((o) => `istio-system/istio-remote-secret-${o.name}`)
      expect(remote.map((s: any) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual(others)
      const readers = c.store
        .list('v1', 'ServiceAccount')
        .filter((sa: any) => sa.metadata.name === 'istio-reader-service-account')
      expect(readers.map((sa: any) => sa.metadata.namespace)).toEqual(['istio-system'])
    }
  })

  it('istiod in each cluster has the other as a synced remote cluster', async () => {
    const kcFile = path.join(runner.home, 'check-kubeconfig')
    for (const c of sim.clusters) {
      fs.writeFileSync(kcFile, sim.kubeconfig([c.name]), { mode: 0o600 })
      const r = await runCommand(run.outputs['istioctl-path'], ['remote-clusters', '--kubeconfig', kcFile])
      expect(r.code).toBe(0)
      for (const other of sim.clusters.filter((o) => o !== c))
        expect(r.stdout).toMatch(
          new RegExp(`^${other.name}\\s+istio-system/istio-remote-secret-${other.name}\\s+synced`, 'm')
        )
    }
  })
})
