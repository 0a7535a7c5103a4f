// One network (istio.io "Install Multi-Primary" and "Install Primary-Remote", Istio 1.29–1.31) on one simulation with
// the bundled action, two sequences one after the other: install → re-run (unchanged) → grow by one → plan →
// uninstall. Each state is asserted object by object against what the page says each cluster holds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import {
  Cluster,
  Sim,
  canaryHits,
  expectPrimary,
  expectRemote,
  expectUninstalled,
  gatewayAddress,
  istioSystemVersions,
  step
} from './helpers/topology.js'

describe('one network', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let c1: Cluster, c2: Cluster, c3: Cluster
  const run = (topology: Record<string, Record<string, unknown>>, extra: Record<string, string> = {}) => {
    const names = Object.keys(topology)
    const all = sim.clustersInput(topology).split('\n- ')
    const clusters = sim.clusters
      .map((c, i) => [c.name, i ? `- ${all[i]}` : all[i]] as const)
      .filter(([n]) => names.includes(n))
      .map(([, t]) => t)
      .join('\n')
    return runAction({
      inputs: { clusters, kubeconfig: sim.kubeconfig(names), 'istio-version': '1.30.3', ...sim.inputs, ...extra },
      env: sim.env,
      runner
    })
  }
  const ok = (r: Awaited<ReturnType<typeof run>>) => {
    if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
    expect(r.exitCode).toBe(0)
  }
  const lan = { network: 'lan' }
  const remoteOf1 = { network: 'lan', role: 'remote', primary: 'cluster1' }

  beforeAll(async () => {
    sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2' }, { name: 'cluster3' }] })
    ;[c1, c2, c3] = sim.clusters
    runner = makeRunner()
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('multi-primary: install → re-run → grow → plan → uninstall, with no east-west gateway anywhere', async () => {
    await step(
      'two primaries on one network: own istiod each, remote secrets both ways, pod-to-pod traffic',
      async () => {
        const r = await run({ cluster1: lan, cluster2: lan }, { verify: 'traffic' })
        ok(r)
        expectPrimary(c1, { network: 'lan', secretsOf: [c2], crossNetwork: false })
        expectPrimary(c2, { network: 'lan', secretsOf: [c1], crossNetwork: false })
        expect(r.outputs.verified).toBe('true')
        expect(r.stdout).not.toMatch(/::warning::.*network/)
        expect(JSON.parse(r.outputs['gateway-addresses'])).toEqual({ cluster1: null, cluster2: null })
        expect(canaryHits(r, runner)).toEqual([])
      }
    )
    await step('a re-run changes nothing', async () => {
      const before = istioSystemVersions([c1, c2])
      const r = await run({ cluster1: lan, cluster2: lan })
      ok(r)
      expect(r.summary).toContain('— ✅ ready (unchanged)')
      expect(istioSystemVersions([c1, c2])).toEqual(before)
    })
    await step('grows by a third primary on the same network', async () => {
      const r = await run({ cluster1: lan, cluster2: lan, cluster3: lan }, { verify: 'traffic' })
      ok(r)
      expectPrimary(c1, { network: 'lan', secretsOf: [c2, c3], crossNetwork: false })
      expectPrimary(c2, { network: 'lan', secretsOf: [c1, c3], crossNetwork: false })
      expectPrimary(c3, { network: 'lan', secretsOf: [c1, c2], crossNetwork: false })
      expect(r.outputs.verified).toBe('true')
    })
    await step('plans read-only: no gateway step in any cluster', async () => {
      const before = sim.clusters.map((c) => c.store.snapshot())
      const r = await run({ cluster1: lan, cluster2: lan, cluster3: lan }, { mode: 'plan' })
      ok(r)
      expect(sim.clusters.map((c) => c.store.snapshot())).toEqual(before)
      for (const c of JSON.parse(r.outputs.plan).clusters)
        expect(c.actions.map((a: any) => a.step)).toEqual([
          'namespace',
          'root-of-trust',
          'control-plane',
          'remote-secret',
          'remote-secrets-in',
          'verify'
        ])
    })
    await step('uninstalls', async () => {
      ok(await run({ cluster1: lan, cluster2: lan, cluster3: lan }, { mode: 'uninstall' }))
      for (const c of sim.clusters) expectUninstalled(c)
    })
  }, 600_000)

  it('primary-remote: install → re-run → grow by a remote → plan → uninstall, on the cleaned clusters', async () => {
    await step('a primary and its remote on one network: only the primary has a gateway, exposing istiod', async () => {
      const r = await run({ cluster1: lan, cluster2: remoteOf1 }, { verify: 'traffic' })
      ok(r)
      expectPrimary(c1, { network: 'lan', remotes: [c2], secretsOf: [c2], crossNetwork: false })
      expectRemote(c2, { network: 'lan', primary: c1, gateway: false })
      expect(r.outputs.verified).toBe('true')
      expect(JSON.parse(r.outputs['gateway-addresses'])).toEqual({ cluster1: gatewayAddress(c1), cluster2: null })
    })
    await step('a re-run changes nothing', async () => {
      const before = istioSystemVersions([c1, c2])
      const r = await run({ cluster1: lan, cluster2: remoteOf1 })
      ok(r)
      expect(r.summary).toContain('— ✅ ready (unchanged)')
      expect(istioSystemVersions([c1, c2])).toEqual(before)
    })
    await step('grows by a second remote: attached to the primary, nothing in the other remote', async () => {
      const r = await run({ cluster1: lan, cluster2: remoteOf1, cluster3: remoteOf1 }, { verify: 'traffic' })
      ok(r)
      expectPrimary(c1, { network: 'lan', remotes: [c2, c3], secretsOf: [c2, c3], crossNetwork: false })
      expectRemote(c2, { network: 'lan', primary: c1, gateway: false })
      expectRemote(c3, { network: 'lan', primary: c1, gateway: false })
      expect(r.outputs.verified).toBe('true')
    })
    await step('plans read-only: remotes wait for the primary’s gateway address and exposed istiod', async () => {
      const r = await run({ cluster1: lan, cluster2: remoteOf1, cluster3: remoteOf1 }, { mode: 'plan' })
      ok(r)
      const plan = JSON.parse(r.outputs.plan)
      const steps = (n: string) => plan.clusters.find((c: any) => c.cluster === n).actions.map((a: any) => a.step)
      expect(steps('cluster1')).toEqual([
        'namespace',
        'root-of-trust',
        'control-plane',
        'gateway-service',
        'eastwest-gateway',
        'gateway-address',
        'expose-istiod',
        'remote-secrets-in',
        'verify'
      ])
      expect(steps('cluster2')).toEqual(['namespace', 'control-plane', 'remote-secret'])
    })
    await step('uninstalls keeping istio-system; the former remote may then join as a primary', async () => {
      const r = await run(
        { cluster1: lan, cluster2: remoteOf1, cluster3: remoteOf1 },
        { mode: 'uninstall', 'keep-namespace': 'true' }
      )
      ok(r)
      // The annotation stays with the namespace; the remote profile is gone (istioctl uninstall --purge).
      expect(
        c2.store.get('v1', 'Namespace', undefined, 'istio-system').metadata.annotations[
          'topology.istio.io/controlPlaneClusters'
        ]
      ).toBe('cluster1')
      expect(c2.store.get('v1', 'Service', 'istio-system', 'istiod')).toBeUndefined()
      ok(await run({ cluster1: lan, cluster2: lan }))
      expectPrimary(c2, { network: 'lan', secretsOf: [c1], crossNetwork: false })
    })
    await step('uninstalls', async () => {
      ok(await run({ cluster1: lan, cluster2: lan, cluster3: remoteOf1 }, { mode: 'uninstall' }))
      for (const c of sim.clusters) expectUninstalled(c)
    })
  }, 600_000)
})
