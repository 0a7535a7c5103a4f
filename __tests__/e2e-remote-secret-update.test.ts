// A re-run whose remote secret changes (here: cluster2's reader token rotated, as when a preview cluster is re-created
// under the same name) on Istio releases whose istiod keeps a stale view of the remote cluster after such an update
// (istio/istio#60612, #61043, #60920; test/sim/apiserver/istiod.js). The action must restart that istiod, and only
// there and only on those releases.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Cluster = Sim['clusters'][number]

const READER_TOKEN_SECRET = 'istio-reader-service-account-istio-remote-secret-token'
const istiodPods = (c: Cluster) =>
  c.store
    .list('v1', 'Pod', 'istio-system')
    .filter((p: any) => p.metadata.labels?.app === 'istiod')
    .map((p: any) => p.metadata.name)
    .sort()

describe.each([
  ['1.30.3', true],
  ['1.31.1', false]
])('a changed remote secret on Istio %s', (version, restarts) => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  const run = () =>
    runAction({
      inputs: {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': version,
        verify: 'traffic',
        'verify-timeout': '30s',
        ...sim.inputs
      },
      env: sim.env,
      runner
    })

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it(`${restarts ? 'restarts' : 'does not restart'} the istiod that reads it, and traffic crosses the mesh after`, async () => {
    const [c1, c2] = sim.clusters
    const first = await run()
    if (first.exitCode !== 0) console.log(first.stdout)
    expect(first.exitCode).toBe(0)
    // A first install creates the secrets: nothing to restart.
    expect(first.stdout).not.toMatch(/restarting istiod/)
    const before = { c1: istiodPods(c1), c2: istiodPods(c2) }
    expect(before.c1).toHaveLength(1)

    // Rotate cluster2's reader token: create-remote-secret makes a new one, so cluster1's copy of the secret changes.
    expect(c2.store.delete('v1', 'Secret', 'istio-system', READER_TOKEN_SECRET)).toBeTruthy()
    const second = await run()
    if (second.exitCode !== 0) console.log(second.stdout)
    expect(second.exitCode).toBe(0)
    expect(second.stdout).toMatch(/secret\/istio-remote-secret-cluster2 configured/)
    expect(second.outputs.verified).toBe('true')
    // cluster2's copy of cluster1's secret is unchanged: its istiod keeps running either way.
    expect(istiodPods(c2)).toEqual(before.c2)
    if (restarts) {
      expect(second.stdout).toMatch(
        /istio-remote-secret-cluster2 changed; restarting istiod \(Istio 1\.30\.3: istio\/istio#61043 and #60920: .* \(fixed in 1\.30\.4\)\)/
      )
      expect(second.stdout).toMatch(/kubectl --context cluster1 rollout restart deployment\/istiod -n istio-system/)
      expect(second.stdout).toMatch(
        /kubectl --context cluster1 rollout status deployment\/istiod -n istio-system --timeout=300s/
      )
      expect(istiodPods(c1)).not.toEqual(before.c1)
    } else {
      expect(second.stdout).not.toMatch(/restarting istiod|rollout restart/)
      expect(istiodPods(c1)).toEqual(before.c1)
    }
  }, 180_000)
})
