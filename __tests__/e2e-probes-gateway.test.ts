// End to end (issue 14): a gateway counts as ready only once a probe pod in each peer reaches its address on port
// 15443 — an L7 load balancer in front of it fails the install with the cause and the fix, and a load balancer that
// forwards only some seconds after its address appeared is waited for (the pod tries again), and each cluster's step
// says per gateway how long it took.
import { afterEach, describe, expect, it } from '@jest/globals'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations, findLeaks, leakPlaces, maskedValues, storedCredentials } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const runError = (r: Run) =>
  errorAnnotations(r.stdout)
    .filter((e) => !e.title)
    .map((e) => e.message)
    .join('\n')
const stepLine = (r: Run, cluster: string, title: string) =>
  r.stdout.split('\n').find((l) => l.startsWith(`::group::✔ ${cluster} · ${title} (`)) ?? ''
const probeNamespaces = (s: Sim) =>
  s.clusters.flatMap((c) =>
    c.store
      .list('v1', 'Namespace')
      .map((n: any) => `${c.name}/${n.metadata.name as string}`)
      .filter((n) => n.includes('istio-multicluster-probe'))
  )

async function install(
  fault: (s: Sim) => void,
  extra: Record<string, string> = {},
  onSpawn?: (child: import('node:child_process').ChildProcess, s: Sim) => void
) {
  sim = await startSimulation()
  fault(sim)
  const s0 = sim
  const runner = makeRunner()
  const run = await runAction({
    onSpawn: onSpawn && ((child) => onSpawn(child, s0)),
    inputs: {
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      ...sim.inputs,
      ...extra
    },
    env: sim.env,
    runner
  })
  const needles = [CANARY, ...storedCredentials(sim), ...maskedValues(run.stdout)]
  return { run, leaks: findLeaks(leakPlaces(run, runner), needles), sim }
}

describe('e2e probes: gateways that really forward', () => {
  it('an L7 load balancer in front of the gateway: the install fails with the cause and the fix', async () => {
    const { run, leaks, sim: s } = await install((x) => x.network.l7Gateway('cluster2'))
    expect(run.exitCode).toBe(1)
    expect(runError(run).split('\n')[0]).toBe(
      "cluster1 · peers' gateways forward (cluster2): cluster1 cannot use cluster2's east-west gateway 192.0.2.2:15443: something there terminates TLS and answers HTTP from inside cluster1; an L7 load balancer (e.g. an AWS ALB or an HTTPS load balancer) is in front of the gateway, but cross-network traffic is mTLS that must pass through to it: use an L4 (network) load balancer, e.g. the annotation service.beta.kubernetes.io/aws-load-balancer-type: nlb in gateway-service-annotations"
    )
    // cluster1's gateway forwards: cluster2's probe of it passed.
    expect(stepLine(run, 'cluster2', "peers' gateways forward (cluster1)")).toMatch(/: cluster1 after \d+ s$/)
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)

  it('a gateway that forwards 10 s after its address appeared: waited for in the pod, the time reported per gateway', async () => {
    const { run, leaks, sim: s } = await install((x) => x.network.gatewayForwardsAfter('cluster2', 10_000))
    expect(run.exitCode).toBe(0)
    const after = (cluster: string, peer: string) =>
      Number(
        new RegExp(`: ${peer} after (\\d+) s$`).exec(stepLine(run, cluster, `peers' gateways forward (${peer})`))?.[1]
      )
    // cluster1's pod tried cluster2's gateway again every 2 s until it forwarded; cluster2's reached cluster1's at once.
    expect(after('cluster1', 'cluster2')).toBeGreaterThanOrEqual(3)
    expect(after('cluster2', 'cluster1')).toBeLessThan(3)
    // One probe Job per probing cluster, not one per try.
    for (const c of ['cluster1', 'cluster2'])
      expect(s.cluster(c).requests.filter((r: any) => r.method === 'POST' && /\/jobs(\?|$)/.test(r.path))).toHaveLength(
        1
      )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)

  it('a gateway that never forwards within gateway-timeout: the timeout, its cause and the fix', async () => {
    const { run, sim: s } = await install((x) => x.network.gatewayForwardsAfter('cluster2', 10 * 60_000), {
      'gateway-timeout': '8s'
    })
    expect(run.exitCode).toBe(1)
    expect(runError(run).split('\n')[0]).toBe(
      "cluster1 · peers' gateways forward (cluster2): cluster1 cannot use cluster2's east-west gateway 192.0.2.2:15443: the connection timed out from inside cluster1 after 8 s (gateway-timeout); a firewall or security group drops TCP 15443 from cluster1, or the load balancer does not forward yet (an NLB registers its targets minutes after its address appears): allow TCP 15443 from cluster1, or raise gateway-timeout"
    )
    expect(probeNamespaces(s)).toEqual([])
  }, 180_000)

  it('a cancel while a probe runs: the probe namespace is deleted (by the run as it stops, or by post) and none remains', async () => {
    let signalled = ''
    const {
      run,
      leaks,
      sim: s
    } = await install(
      (x) => x.network.gatewayForwardsAfter('cluster2', 10 * 60_000),
      { 'gateway-timeout': '2m' },
      (child, x) => {
        // SIGTERM as soon as cluster1 holds a probe namespace (the probe of cluster2's gateway from cluster1).
        x.cluster('cluster1').store.on('change', (e: any) => {
          const n = e.object
          if (signalled || e.type !== 'ADDED' || n.kind !== 'Namespace') return
          if (!n.metadata.name.startsWith('istio-multicluster-probe-')) return
          signalled = n.metadata.name
          setTimeout(() => child.kill('SIGTERM'), 200)
        })
      }
    )
    expect(signalled).not.toBe('')
    expect(run.exitCode).not.toBe(0)
    // The run starts the delete during the cancel (exec afterStop) but exits a fixed time after the signal, so whether
    // it finished before post ran is timing (CI saw both): post, the backstop, deletes again what is still tracked.
    // What holds either way: the namespace was deleted and none remains in any cluster.
    expect(
      s
        .cluster('cluster1')
        .requests.some((r: any) => r.method === 'DELETE' && r.path === `/api/v1/namespaces/${signalled}`)
    ).toBe(true)
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 180_000)
})
