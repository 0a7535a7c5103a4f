// mode: check end to end on dist/: a healthy pair passes every check and exits 0; a cluster whose load balancer
// never assigns an address, or whose gateway carries another network label, fails that check with its hint and exits
// non-zero. Every run leaves nothing behind (its namespace is gone, it wrote nothing else) and no credential.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runAction } from '../test/harness/action.js'
import { findLeaks, leakPlaces, maskedValues, storedCredentials } from '../test/harness/inspect.js'
import type { Check } from '../src/checks/types.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type ClusterSpec = NonNullable<Parameters<typeof startSimulation>[0]>['clusters']
type Run = Awaited<ReturnType<typeof runAction>>

const VERSION = '1.30.3'
const CHECK_NS = 'istio-multicluster-check'
const PROBE_NS = /^istio-multicluster-probe-[0-9a-f]{6}$/
const PROBE_NS_PATH = /\/namespaces\/istio-multicluster-probe-[0-9a-f]{6}(\/|\?|$)/

interface Outcome {
  sim: Sim
  run: Run
  checks: Check[]
  leaks: string[]
  tempFiles: string[]
  byId(id: string): Check | undefined
}

async function check(opts: {
  clusters?: ClusterSpec
  inputs?: Record<string, string>
  arrange?: (sim: Sim) => void | Promise<void>
}): Promise<Outcome> {
  const sim = await startSimulation({ clusters: opts.clusters })
  await opts.arrange?.(sim)
  const runner = makeRunner()
  const inputs = {
    mode: 'check',
    clusters: sim.clustersInput(),
    kubeconfig: sim.kubeconfig(),
    'istio-version': VERSION,
    ...sim.inputs,
    ...opts.inputs
  }
  const run = await runAction({ inputs, env: sim.env, runner, timeoutMs: 120_000 })
  const leaks = findLeaks(leakPlaces(run, runner), [CANARY, ...storedCredentials(sim), ...maskedValues(run.stdout)])
  const checks = JSON.parse(run.outputs.checks ?? '[]') as Check[]
  // The diagnostics bundle of a failed check stays (the runner empties RUNNER_TEMP after the job); nothing else may.
  const tempFiles = filesBelow(runner.runnerTemp).filter((f) => !f.includes('/diagnostics-istio-multicluster-'))
  runner.cleanup()
  return { sim, run, checks, leaks, tempFiles, byId: (id) => checks.find((c) => c.id === id) }
}

/** Requests that changed something, outside the check's own namespace (the /sim endpoints aside). */
const writesOutsideCheck = (sim: Sim) =>
  sim.clusters.flatMap((c) =>
    c.requests
      .filter((r: any) => !r.sim && !['GET', 'HEAD', 'OPTIONS'].includes(r.method))
      .filter(
        (r: any) =>
          !(
            r.path === '/api/v1/namespaces' ||
            r.path.startsWith(`/api/v1/namespaces/${CHECK_NS}`) ||
            PROBE_NS_PATH.test(r.path)
          )
      )
      .map((r: any) => `${c.name}: ${r.method} ${r.path}`)
  )

/** What a check must leave: no namespace of its own, nothing written elsewhere, no credential, no file. */
function expectNothingLeft(o: Outcome): void {
  for (const c of o.sim.clusters) {
    expect([c.name, c.store.get('v1', 'Namespace', undefined, CHECK_NS)]).toEqual([c.name, undefined])
    expect([c.name, c.store.list('v1', 'Service', CHECK_NS)]).toEqual([c.name, []])
    // The probes' namespaces too (each has its Secret of targets, CAs and tokens).
    const probes = c.store.list('v1', 'Namespace').filter((n: any) => PROBE_NS.test(n.metadata.name))
    expect([c.name, probes.filter((n: any) => !n.metadata.deletionTimestamp)]).toEqual([c.name, []])
  }
  expect(writesOutsideCheck(o.sim)).toEqual([])
  expect(o.leaks).toEqual([])
  expect(o.tempFiles).toEqual([])
}

describe('mode: check (dist/)', () => {
  describe('two healthy fresh clusters', () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({})
    }, 150_000)
    afterAll(() => o?.sim.stop())

    it('passes every check, with stable ids, and exits 0', () => {
      expect(o.run.exitCode).toBe(0)
      const ids = o.checks.map((c) => c.id).sort()
      const want = ['api-server-from-runner', 'istio-version', 'root-of-trust', 'network-labels', 'load-balancer']
        .flatMap((k) => [`${k}/cluster1`, `${k}/cluster2`])
        .concat(['api-server-reachable/cluster1/cluster2', 'api-server-reachable/cluster2/cluster1'])
        .sort()
      expect(ids).toEqual(want)
      expect(o.checks.filter((c) => c.status !== 'pass')).toEqual([])
      expect(o.byId('istio-version/cluster1')!.message).toBe(`no istiod yet: install would install Istio ${VERSION}`)
      expect(o.byId('load-balancer/cluster2')!.message).toMatch(/^a LoadBalancer Service got the address \S+ in /)
    })

    it('writes a summary table of every check and leaves nothing behind', () => {
      expect(o.run.summary).toContain('pre-flight check for Istio 1.30.3: ✅ passed')
      expect(o.run.summary).toContain('| `load-balancer/cluster1` | cluster1 | ✅ pass |')
      expect(o.run.summary).not.toContain('What went wrong')
      expect(o.run.outputs['diagnostics-path']).toBeUndefined()
      expectNothingLeft(o)
    })
  })

  describe('a running mesh (after install)', () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({
        arrange: async (sim) => {
          const runner = makeRunner()
          const inputs = { clusters: sim.clustersInput(), kubeconfig: sim.kubeconfig(), 'istio-version': VERSION }
          const installed = await runAction({ inputs: { ...inputs, ...sim.inputs }, env: sim.env, runner })
          runner.cleanup()
          if (installed.exitCode !== 0) throw new Error(`install failed: ${installed.stdout.slice(-2000)}`)
          for (const c of sim.clusters) c.requests.length = 0
        }
      })
    }, 300_000)
    afterAll(() => o?.sim.stop())

    it('passes every check: same version, one root, labels that agree, gateways with addresses', () => {
      expect(o.run.exitCode).toBe(0)
      expect(o.checks.filter((c) => c.status !== 'pass')).toEqual([])
      expect(o.byId('istio-version/cluster1')!.message).toBe(
        `runs Istio ${VERSION} (revision default): install would re-apply ${VERSION}`
      )
      expect(o.byId('root-of-trust/cluster2')!.message).toMatch(
        /^cacerts chains to the mesh root \(.*, from secret istio-multicluster-root-ca in cluster1\)$/
      )
      expect(o.byId('network-labels/cluster1')!.message).toMatch(
        /istio-system: "network1"; configured: "network1"; service istio-eastwestgateway: "network1"; pod istio-eastwestgateway-\S+: "network1"\)$/
      )
      // The gateways have addresses: no temporary Service was created.
      expect(o.byId('load-balancer/cluster1')!.message).toMatch(
        /^service istio-eastwestgateway already has the address /
      )
      // The probe pods use the remote secrets istiod holds, and reach each gateway across the networks.
      const reach = o.checks.filter((c) => /^(api-server|gateway)-reachable\//.test(c.id)).map((c) => c.id)
      expect(reach.sort()).toEqual([
        'api-server-reachable/cluster1/cluster2',
        'api-server-reachable/cluster2/cluster1',
        'gateway-reachable/cluster1/cluster2',
        'gateway-reachable/cluster2/cluster1'
      ])
      expect(o.byId('api-server-reachable/cluster1/cluster2')!.message).not.toContain('no remote secret yet')
    })

    it('writes nothing at all', () => expectNothingLeft(o))
  })

  describe('a cluster whose load balancer never assigns an address', () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({
        clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'none' } }],
        inputs: { 'gateway-timeout': '3s' }
      })
    }, 150_000)
    afterAll(() => o?.sim.stop())

    it('fails load-balancer/cluster2 with the hint, passes the rest, and exits non-zero', () => {
      expect(o.run.exitCode).not.toBe(0)
      expect(o.byId('load-balancer/cluster2')).toEqual({
        id: 'load-balancer/cluster2',
        status: 'fail',
        cluster: 'cluster2',
        message: expect.stringContaining(
          `service ${CHECK_NS}/load-balancer-check got no external address (ip or hostname) within 3 s.`
        ),
        hint: expect.stringContaining('install MetalLB or cloud-provider-kind')
      })
      expect(o.checks.filter((c) => c.status !== 'pass').map((c) => c.id)).toEqual(['load-balancer/cluster2'])
      expect(o.run.stdout).toContain('::error::1 check(s) failed:%0Aload-balancer/cluster2: service')
      expect(o.run.summary).toContain('### What went wrong')
      expect(o.run.outputs['diagnostics-path']).toMatch(/\/diagnostics-istio-multicluster-[^/]+$/)
    })

    it('removes its namespace and Service anyway', () => expectNothingLeft(o))
  })

  describe("a gateway whose network label is not istio-system's", () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({
        arrange: (sim) => {
          // What a running cluster1 looks like when its gateway was rendered for another network.
          const store = sim.cluster('cluster1').store
          const net = 'topology.istio.io/network'
          store.put({
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: 'istio-system', labels: { [net]: 'network1' } }
          })
          store.put({
            apiVersion: 'v1',
            kind: 'Service',
            metadata: {
              name: 'istio-eastwestgateway',
              namespace: 'istio-system',
              labels: { app: 'istio-eastwestgateway', [net]: 'network9' }
            },
            spec: { type: 'LoadBalancer', ports: [{ name: 'tls', port: 15443 }] },
            status: { loadBalancer: { ingress: [{ ip: '172.18.0.200' }] } }
          })
        }
      })
    }, 150_000)
    afterAll(() => o?.sim.stop())

    it('fails network-labels/cluster1 naming every label value, with the fix', () => {
      expect(o.run.exitCode).not.toBe(0)
      const c = o.byId('network-labels/cluster1')!
      expect(c.status).toBe('fail')
      expect(c.message).toContain(
        'topology.istio.io/network — istio-system: "network1"; configured: "network1"; service istio-eastwestgateway: "network9"'
      )
      expect(c.hint).toMatch(/^Re-run install/)
      expect(o.byId('network-labels/cluster2')!.status).toBe('pass')
      // The gateway already has an address: no temporary Service was needed there.
      expect(o.byId('load-balancer/cluster1')!.message).toBe(
        'service istio-eastwestgateway already has the address 172.18.0.200'
      )
    })

    it('leaves nothing behind', () => expectNothingLeft(o))
  })

  describe('a cluster whose credentials are refused', () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({ arrange: (sim) => void sim.cluster('cluster2').setFault({ kind: 'expireToken' }) })
    }, 150_000)
    afterAll(() => o?.sim.stop())

    it('fails its access check with the fix, skips its other checks, and still checks the other cluster', () => {
      expect(o.run.exitCode).not.toBe(0)
      const c = o.byId('api-server-from-runner/cluster2')!
      expect(c.status).toBe('fail')
      expect(c.message).toContain('the runner cannot read cluster2: the credentials were refused (401 Unauthorized)')
      expect(c.hint).toMatch(/^Renew the cluster's kubeconfig or token/)
      expect(o.checks.filter((x) => x.cluster === 'cluster2' && x !== c).map((x) => x.status)).toEqual([
        'skip',
        'skip',
        'skip',
        'skip',
        'skip'
      ])
      expect(o.checks.filter((x) => x.cluster === 'cluster1').every((x) => x.status === 'pass')).toBe(true)
    })

    it('leaves nothing behind', () => expectNothingLeft(o))
  })

  describe("a firewall between cluster1's pods and cluster2's API server", () => {
    let o: Outcome
    beforeAll(async () => {
      o = await check({ arrange: (sim) => void sim.network.firewall('cluster1', 'cluster2', 'api-server') })
    }, 150_000)
    afterAll(() => o?.sim.stop())

    it('fails api-server-reachable/cluster1/cluster2 with the fix, passes the other direction, and exits non-zero', () => {
      expect(o.run.exitCode).not.toBe(0)
      const c = o.byId('api-server-reachable/cluster1/cluster2')!
      const host = new URL(o.sim.cluster('cluster2').reachableUrl).host
      expect(c).toMatchObject({
        status: 'fail',
        cluster: 'cluster1',
        message: `cluster1's istiod cannot reach cluster2's API server https://${host}: the connection timed out from inside cluster1`
      })
      expect(c.hint).toMatch(/^a firewall, security group or NetworkPolicy drops cluster1's traffic to /)
      expect(o.byId('api-server-reachable/cluster2/cluster1')!.status).toBe('pass')
      expect(o.checks.filter((x) => x.status === 'fail').map((x) => x.id)).toEqual([c.id])
      expect(o.run.stdout).toContain(`api-server-reachable/cluster1/cluster2: ${c.message}`)
    })

    it('leaves nothing behind', () => expectNothingLeft(o))
  })

  it('cancelled while it waits for an address: removes its namespace before it exits', async () => {
    const sim = await startSimulation({ clusters: [{ name: 'cluster1', lb: { mode: 'none' } }, { name: 'cluster2' }] })
    const runner = makeRunner()
    try {
      let signalledAt = 0
      const run = await runAction({
        inputs: {
          mode: 'check',
          clusters: sim.clustersInput(),
          kubeconfig: sim.kubeconfig(),
          'istio-version': VERSION,
          'gateway-timeout': '2m',
          ...sim.inputs
        },
        env: sim.env,
        runner,
        timeoutMs: 60_000,
        // The runner's cancel: SIGTERM once the temporary Service waits for its address.
        onSpawn: (child) => {
          const timer = setInterval(() => {
            if (!sim.cluster('cluster1').store.get('v1', 'Service', CHECK_NS, 'load-balancer-check')) return
            clearInterval(timer)
            signalledAt = Date.now()
            child.kill('SIGTERM')
          }, 50)
          child.on('exit', () => clearInterval(timer))
        }
      })
      expect(signalledAt).toBeGreaterThan(0)
      expect(run.exitCode).not.toBe(0)
      for (const c of sim.clusters)
        expect([c.name, c.store.get('v1', 'Namespace', undefined, CHECK_NS)]).toEqual([c.name, undefined])
      const deletes = sim
        .cluster('cluster1')
        .requests.filter((r: any) => r.method === 'DELETE')
        .map((r: any) => r.path)
      expect(deletes).toContain(`/api/v1/namespaces/${CHECK_NS}`)
      // The probes' namespace too, if the cancel came while they ran (afterStop), and nothing else.
      expect(deletes.filter((p: string) => p !== `/api/v1/namespaces/${CHECK_NS}` && !PROBE_NS_PATH.test(p))).toEqual(
        []
      )
      for (const c of sim.clusters)
        expect([
          c.name,
          c.store
            .list('v1', 'Namespace')
            .filter((n: any) => PROBE_NS.test(n.metadata.name) && !n.metadata.deletionTimestamp)
        ]).toEqual([c.name, []])
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 90_000)
})
