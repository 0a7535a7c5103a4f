// Primary-remote (istio.io "Install Primary-Remote on different networks", Istio 1.29–1.31) on simulated clusters with
// the bundled action: install a primary and a remote → re-run (unchanged) → grow by a remote → plan → refuse a role
// change → uninstall. Each state is asserted object by object against what the page says each cluster holds.
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
  istioSystemVersions,
  step
} from './helpers/topology.js'

describe('primary-remote on different networks', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let c1: Cluster, c2: Cluster, c3: Cluster
  // c1 primary on network1, c2 a remote of it on network2, c3 (grown) a remote on network1 beside its primary.
  const topology: Record<string, Record<string, unknown>> = {
    cluster1: { network: 'network1' },
    cluster2: { network: 'network2', role: 'remote', primary: 'cluster1' },
    cluster3: { network: 'network1', role: 'remote', primary: 'cluster1' }
  }
  const inputsFor = (names: string[], extra: Record<string, string> = {}, overrides = topology) => {
    const all = sim.clustersInput(overrides).split('\n- ')
    return {
      clusters: sim.clusters
        .map((c, i) => [c.name, i ? `- ${all[i]}` : all[i]] as const)
        .filter(([n]) => names.includes(n))
        .map(([, t]) => t)
        .join('\n'),
      kubeconfig: sim.kubeconfig(names),
      'istio-version': '1.30.3',
      ...sim.inputs,
      ...extra
    }
  }
  const run = (names: string[], extra: Record<string, string> = {}, overrides = topology) =>
    runAction({ inputs: inputsFor(names, extra, overrides), env: sim.env, runner })
  const ok = (r: Awaited<ReturnType<typeof run>>) => {
    if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
    expect(r.exitCode).toBe(0)
  }

  beforeAll(async () => {
    sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2' }, { name: 'cluster3' }] })
    ;[c1, c2, c3] = sim.clusters
    runner = makeRunner()
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('install → re-run → grow by a remote → plan → role change refused → uninstall', async () => {
    await step('installs cluster1 as primary and cluster2 as its remote; traffic crosses both ways', async () => {
      const r = await run(['cluster1', 'cluster2'], { verify: 'traffic' })
      ok(r)
      expectPrimary(c1, { network: 'network1', remotes: [c2], secretsOf: [c2], crossNetwork: true })
      expectRemote(c2, { network: 'network2', primary: c1, gateway: true })
      expect(r.outputs.verified).toBe('true')
      // remote-clusters runs on the primary only: a remote has no istiod to ask.
      expect(r.stdout).toMatch(/▸ cluster1 · verify: cluster2 synced/)
      expect(r.stdout).not.toMatch(/▸ cluster2 · verify: .* synced/)
      expect(r.stdout).toMatch(/remotePilotAddress: \S+ \(cluster1's east-west gateway\)/)
      expect(canaryHits(r, runner)).toEqual([])
    })

    await step('a re-run changes nothing in either cluster', async () => {
      const before = istioSystemVersions([c1, c2])
      const r = await run(['cluster1', 'cluster2'])
      ok(r)
      expect(r.summary).toContain('— ✅ ready (unchanged)')
      expect(istioSystemVersions([c1, c2])).toEqual(before)
    })

    await step('grows by a remote on the primary’s network: attached to cluster1 only', async () => {
      const r = await run(['cluster1', 'cluster2', 'cluster3'], { verify: 'traffic' })
      ok(r)
      expectPrimary(c1, { network: 'network1', remotes: [c2, c3], secretsOf: [c2, c3], crossNetwork: true })
      expectRemote(c2, { network: 'network2', primary: c1, gateway: true })
      // cluster3 shares cluster1's network but cluster2 is on another: its gateway carries cluster2's traffic.
      expectRemote(c3, { network: 'network1', primary: c1, gateway: true })
      expect(r.outputs.verified).toBe('true')
    })

    await step(
      'plans read-only: the remote re-applies the remote profile, the stores stay byte-identical',
      async () => {
        const before = sim.clusters.map((c) => c.store.snapshot())
        const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'plan' })
        ok(r)
        expect(sim.clusters.map((c) => c.store.snapshot())).toEqual(before)
        const plan = JSON.parse(r.outputs.plan)
        const actions = (name: string) => plan.clusters.find((c: any) => c.cluster === name).actions
        expect(actions('cluster2').find((a: any) => a.step === 'control-plane').does).toBe(
          "re-apply Istio 1.30.3, profile remote: injection and xDS from cluster1's istiod through its east-west gateway"
        )
        expect(actions('cluster1').map((a: any) => a.step)).toContain('expose-istiod')
        expect(actions('cluster2').map((a: any) => a.step)).not.toContain('remote-secrets-in')
        expect(actions('cluster2').map((a: any) => a.step)).not.toContain('expose-services')
      }
    )

    await step('refuses to turn the running remote into a primary, or the primary into a remote', async () => {
      const before = sim.clusters.map((c) => c.store.snapshot())
      const asPrimary = await run(['cluster1', 'cluster2'], {}, { ...topology, cluster2: { network: 'network2' } })
      expect(asPrimary.exitCode).not.toBe(0)
      expect(asPrimary.stdout).toMatch(
        /::error::.*Input "clusters", item 2, field "role": "cluster2" is listed as primary but is a remote of cluster1 .*uninstall Istio from cluster2 first/
      )
      const asRemote = await run(
        ['cluster1', 'cluster3'],
        {},
        {
          cluster1: { network: 'network1', role: 'remote', primary: 'cluster3' },
          cluster3: { network: 'network1' }
        }
      )
      expect(asRemote.exitCode).not.toBe(0)
      expect(asRemote.stdout).toMatch(/"cluster1" is listed as remote but runs its own istiod/)
      expect(sim.clusters.map((c) => c.store.snapshot())).toEqual(before)
    })

    await step('uninstalls every cluster: no istio-system, no webhooks, no reader RBAC', async () => {
      const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'uninstall' })
      ok(r)
      for (const c of sim.clusters) expectUninstalled(c)
    })
  }, 600_000)
})
