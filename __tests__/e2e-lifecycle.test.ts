// The lifecycle of a preview environment or a nightly rebuild, on simulated clusters with the bundled action:
// install 2 → re-run (unchanged) → add a third → plan a new version (read-only) → upgrade → remove one (prune) →
// uninstall → uninstall again. Each state is asserted object by object.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { makeShim } from '../test/harness/shim.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>
type Cluster = Sim['clusters'][number]

const remoteSecretsIn = (c: Cluster) =>
  c.store
    .list('v1', 'Secret', 'istio-system')
    .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
    .map((s: any) => s.metadata.annotations['networking.istio.io/cluster'])
    .sort()
const istiodVersion = (c: Cluster) =>
  c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')?.metadata.labels['operator.istio.io/version']
const rootOf = (c: Cluster) =>
  Buffer.from(c.store.get('v1', 'Secret', 'istio-system', 'cacerts').data['root-cert.pem'], 'base64').toString()

function expectMember(c: Cluster, peers: Cluster[], version: string): void {
  expect(
    c.store.get('v1', 'Namespace', undefined, 'istio-system').metadata.labels['topology.istio.io/network']
  ).toMatch(/^network\d$/)
  expect(istiodVersion(c)).toBe(version)
  expect(
    c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway').status.loadBalancer.ingress
  ).toHaveLength(1)
  expect(c.store.get('networking.istio.io/v1', 'Gateway', 'istio-system', 'cross-network-gateway')).toBeTruthy()
  expect(remoteSecretsIn(c)).toEqual(peers.map((p) => p.name).sort())
}

/** A named step of a sequence: its name leads the failure, so a red run says which state broke. */
async function step(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn()
  } catch (e) {
    if (e instanceof Error) e.message = `step "${name}":\n${e.message}`
    throw e
  }
}

describe('lifecycle', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let c1: Cluster, c2: Cluster, c3: Cluster
  // Every kubectl and istioctl the action starts goes through the recording shim.
  let shim: ReturnType<typeof makeShim>
  const inputsFor = (names: string[], extra: Record<string, string> = {}) => {
    const all = sim.clustersInput().split('\n- ')
    const items = sim.clusters
      .map((c, i) => [c.name, i ? `- ${all[i]}` : all[i]] as const)
      .filter(([n]) => names.includes(n))
    return {
      clusters: items.map(([, t]) => t).join('\n'),
      kubeconfig: sim.kubeconfig(names),
      'istio-version': '1.30.3',
      ...sim.inputs,
      ...extra
    }
  }
  const run = (names: string[], extra: Record<string, string> = {}) =>
    runAction({ inputs: inputsFor(names, extra), env: { ...sim.env, PATH: shim.path }, runner })
  const ok = (r: Run) => {
    if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
    expect(r.exitCode).toBe(0)
  }

  beforeAll(async () => {
    sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2' }, { name: 'cluster3' }] })
    ;[c1, c2, c3] = sim.clusters
    runner = makeRunner()
    shim = makeShim()
    // Both versions wait in the tool cache behind the recording wrapper, so every istioctl process is seen.
    for (const v of ['1.30.3', '1.31.1']) await shim.seedIstioctl(runner.toolCache, v)
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
    shim?.cleanup()
  })

  // One test with named steps: each state is the previous one's result, so no step can run (or pass) alone.
  it('install 2 → re-run → grow to 3 → plan → upgrade → prune → uninstall twice', async () => {
    await step('installs two clusters, and a re-run changes nothing and says so', async () => {
      ok(await run(['cluster1', 'cluster2']))
      expectMember(c1, [c2], '1.30.3')
      expectMember(c2, [c1], '1.30.3')
      expect(c3.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()

      const versions = () =>
        [c1, c2].map((c) =>
          ['Deployment', 'Service', 'ConfigMap', 'Secret'].flatMap((k) =>
            c.store
              .list(k === 'Deployment' ? 'apps/v1' : 'v1', k, 'istio-system')
              .map((o: any) => `${k}/${o.metadata.name}@${o.metadata.resourceVersion}`)
          )
        )
      const before = versions()
      const again = await run(['cluster1', 'cluster2'])
      ok(again)
      expect(again.summary).toContain('— ✅ ready (unchanged)')
      expect(again.summary).toMatch(/\| cluster1 \| ✅ ok \|.*\| unchanged \|/)
      expect(again.stdout).toContain('cluster1: changed in istio-system: nothing')
      expect([...again.stdout.matchAll(/^::error::/gm)]).toHaveLength(0)
      // Object by object: nothing in istio-system was written (same resourceVersions).
      expect(versions()).toEqual(before)
    })

    await step('adds a third cluster: remote secrets both ways with every member, and the same root', async () => {
      const r = await run(['cluster1', 'cluster2', 'cluster3'])
      ok(r)
      expectMember(c1, [c2, c3], '1.30.3')
      expectMember(c2, [c1, c3], '1.30.3')
      expectMember(c3, [c1, c2], '1.30.3')
      expect(rootOf(c3)).toBe(rootOf(c1))
      expect(r.outputs.verified).toBe('true')
    })

    await step(
      'plans a new version read-only: every store byte-identical, the plan output says upgrade in place',
      async () => {
        const before = sim.clusters.map((c) => c.store.snapshot())
        const key = (p: { tool: string; pid: number; argv: string[] }) => `${p.tool} ${p.pid} ${p.argv.join(' ')}`
        const earlier = new Set(shim.records().map(key))
        // The shim does see istioctl: the installs before ran it through the wrapper.
        expect([...earlier].filter((k) => k.startsWith('istioctl ')).length).toBeGreaterThan(0)
        const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'plan', 'istio-version': '1.31.1' })
        ok(r)
        expect(sim.clusters.map((c) => c.store.snapshot())).toEqual(before)
        const plan = JSON.parse(r.outputs.plan)
        expect(plan).toMatchObject({ mode: 'plan', istioVersion: '1.31.1', blocker: null })
        expect(plan.clusters.map((c: any) => c.cluster)).toEqual(['cluster1', 'cluster2', 'cluster3'])
        const cp = plan.clusters[0].actions.find((a: any) => a.step === 'control-plane')
        expect(cp.does).toBe('upgrade in place: 1.30.3 (default) → 1.31.1 (default)')
        expect(plan.clusters[0].current).toMatchObject({
          namespace: true,
          network: 'network1',
          remoteSecrets: ['cluster2', 'cluster3'],
          cacerts: true
        })
        expect(r.summary).toContain('plan for Istio 1.31.1 (nothing was changed)')
        // plan writes nothing and needs no istioctl: the shim saw kubectl reads only.
        const started = shim.records().filter((p) => !earlier.has(key(p)))
        expect(started.filter((p) => p.tool === 'kubectl').length).toBeGreaterThan(0)
        expect(started.filter((p) => p.tool === 'istioctl')).toEqual([])
        expect(started.filter((p) => p.tool === 'kubectl').every((p) => p.argv.includes('get'))).toBe(true)
        expect(r.outputs['istioctl-path']).toBeUndefined()
      }
    )

    await step('upgrades in place: control plane before gateway, every cluster on the new version', async () => {
      const r = await run(['cluster1', 'cluster2', 'cluster3'], { 'istio-version': '1.31.1' })
      ok(r)
      for (const c of sim.clusters) expect(istiodVersion(c)).toBe('1.31.1')
      for (const c of sim.clusters)
        expect(
          c.store.get('apps/v1', 'Deployment', 'istio-system', 'istio-eastwestgateway').metadata.labels[
            'operator.istio.io/version'
          ]
        ).toBe('1.31.1')
      expect(r.summary).toContain('- cluster1: in-place 1.30.3 (default) → 1.31.1 (default)')
      const order = [...r.stdout.matchAll(/^::group::✔ cluster1 · (control plane|east-west gateway)/gm)].map(
        (m) => m[1]
      )
      expect(order).toEqual(['control plane', 'east-west gateway'])
    })

    await step('removes a cluster with prune: true: its remote secrets leave the remaining clusters', async () => {
      const r = await run(['cluster1', 'cluster2'], { 'istio-version': '1.31.1', prune: 'true' })
      ok(r)
      expect(remoteSecretsIn(c1)).toEqual(['cluster2'])
      expect(remoteSecretsIn(c2)).toEqual(['cluster1'])
      expect(r.stdout).toMatch(/secret "istio-remote-secret-cluster3" deleted/)
    })

    await step('uninstalls, and uninstalls again on clean clusters', async () => {
      const r = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'uninstall', 'istio-version': '1.31.1' })
      ok(r)
      for (const c of sim.clusters) {
        expect(c.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
        expect(
          c.store.list('apps/v1', 'Deployment').filter((d: any) => d.metadata.namespace === 'istio-system')
        ).toEqual([])
        expect(
          c.store
            .list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
            .filter((d: any) => d.metadata.name.endsWith('istio.io'))
        ).toEqual([])
        expect(
          c.store.get('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, 'istio-reader-clusterrole-istio-system')
        ).toBeUndefined()
      }
      expect(r.summary).toContain('— ✅ removed')
      const again = await run(['cluster1', 'cluster2', 'cluster3'], { mode: 'uninstall', 'istio-version': '1.31.1' })
      ok(again)
    })
  }, 600_000)
})

describe('upgrades the action refuses or stages', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
  })
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })
  const inputs = (extra: Record<string, string>) => ({
    clusters: sim.clustersInput(),
    kubeconfig: sim.kubeconfig(),
    ...sim.inputs,
    ...extra
  })

  // One test with named steps, like the lifecycle above: each step starts from the state the previous one left.
  it('refuse a skipped minor (install and plan) → force it → canary beside it → uninstall keeping the namespace', async () => {
    await step('refuses to skip a minor version before touching any cluster, unless allow-skip-minor', async () => {
      expect(
        (await runAction({ inputs: inputs({ 'istio-version': '1.29.4', verify: 'none' }), env: sim.env, runner }))
          .exitCode
      ).toBe(0)
      const writesBefore = sim.clusters.map((c) => c.requests.filter((q: any) => q.method !== 'GET').length)
      const r = await runAction({ inputs: inputs({ 'istio-version': '1.31.1', verify: 'none' }), env: sim.env, runner })
      expect(r.exitCode).not.toBe(0)
      expect(r.stdout).toMatch(
        /::error::cluster1 runs Istio 1\.29\.4 \(revision default\); going to 1\.31\.1 skips 1 minor version\(s\)\. Istio supports upgrading one minor version at a time: install 1\.30 first, or set allow-skip-minor: true/
      )
      expect(sim.clusters.map((c) => c.requests.filter((q: any) => q.method !== 'GET').length)).toEqual(writesBefore)
      // mode: plan says the same as its blocker, fails the step, and writes nothing either.
      const planned = await runAction({
        inputs: inputs({ 'istio-version': '1.31.1', mode: 'plan' }),
        env: sim.env,
        runner
      })
      expect(planned.exitCode).not.toBe(0)
      expect(planned.stdout).toMatch(
        /::error::install would fail: cluster1 runs Istio 1\.29\.4 \(revision default\); going to 1\.31\.1 skips 1 minor/
      )
      expect(JSON.parse(planned.outputs.plan).blocker).toMatch(/^cluster1 runs Istio 1\.29\.4/)
      expect(sim.clusters.map((c) => c.requests.filter((q: any) => q.method !== 'GET').length)).toEqual(writesBefore)
      const forced = await runAction({
        inputs: inputs({ 'istio-version': '1.31.1', verify: 'none', 'allow-skip-minor': 'true' }),
        env: sim.env,
        runner
      })
      expect(forced.exitCode).toBe(0)
      expect(istiodVersion(sim.clusters[0])).toBe('1.31.1')
    })

    await step(
      'a revision installs a canary control plane beside the old one and says what is left to do',
      async () => {
        const r = await runAction({
          inputs: inputs({ 'istio-version': '1.31.1', revision: 'canary', verify: 'none' }),
          env: sim.env,
          runner
        })
        if (r.exitCode !== 0) console.log(r.stdout)
        expect(r.exitCode).toBe(0)
        for (const c of sim.clusters) {
          expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
          expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod-canary')).toBeTruthy()
        }
        expect(r.summary).toContain('- cluster1: canary (beside the old revision) 1.31.1 (default) → 1.31.1 (canary)')
        expect(r.summary).toContain('kubectl label namespace <ns> istio-injection- istio.io/rev=canary --overwrite')
        expect(r.summary).toContain('istioctl uninstall -y --revision default')
      }
    )

    await step('keep-namespace: uninstall removes Istio but keeps istio-system and the cacerts in it', async () => {
      const r = await runAction({
        inputs: inputs({ 'istio-version': '1.31.1', mode: 'uninstall', 'keep-namespace': 'true' }),
        env: sim.env,
        runner
      })
      if (r.exitCode !== 0) console.log(r.stdout)
      expect(r.exitCode).toBe(0)
      expect(r.stdout).not.toMatch(/delete namespace istio-system/)
      for (const c of sim.clusters) {
        expect(c.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeTruthy()
        expect(c.store.get('v1', 'Secret', 'istio-system', 'cacerts')).toBeTruthy()
        expect(
          c.store.list('apps/v1', 'Deployment', 'istio-system').filter((d: any) => d.metadata.labels?.app === 'istiod')
        ).toEqual([])
        expect(
          c.store
            .list('v1', 'Secret', 'istio-system')
            .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
        ).toEqual([])
      }
    })
  }, 600_000)
})
