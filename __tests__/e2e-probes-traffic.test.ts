// End to end (issue 14): when `verify: traffic` fails, the action reads the client proxy's endpoints (istioctl
// proxy-config endpoint) and says which part is broken: remote pod IPs because the gateway's network label differs
// from the namespace's, or the gateway in the endpoints but the roots of trust differing.
import { afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations, findLeaks, leakPlaces, maskedValues, storedCredentials } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>

let sim: Sim | undefined
afterEach(async () => {
  await sim?.stop()
  sim = undefined
})

const errorsOf = (stdout: string) =>
  errorAnnotations(stdout)
    .filter((e) => !e.title)
    .map((e) => e.message)
    .join('\n')
const probeNamespaces = (s: Sim) =>
  s.clusters.flatMap((c) =>
    c.store
      .list('v1', 'Namespace')
      .map((n: any) => `${c.name}/${n.metadata.name as string}`)
      .filter((n) => n.includes('istio-multicluster-probe'))
  )

async function install(prepare: (s: Sim) => void, extra: Record<string, string>) {
  sim = await startSimulation()
  prepare(sim)
  const runner = makeRunner()
  const run = await runAction({
    inputs: {
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      verify: 'traffic',
      'verify-timeout': '12s',
      ...sim.inputs,
      ...extra
    },
    env: sim.env,
    runner
  })
  const needles = [CANARY, ...storedCredentials(sim), ...maskedValues(run.stdout)]
  return { run, leaks: findLeaks(leakPlaces(run, runner), needles), sim }
}

describe('e2e probes: a failed traffic check says why', () => {
  const ips: string[] = []
  it("the gateway Service's network label differs from the namespace's: remote pod IPs, the labels named", async () => {
    const {
      run,
      leaks,
      sim: s
    } = await install((x) => {
      // As an overlay that labels cluster2's gateway for another network than its istio-system namespace.
      const store = x.cluster('cluster2').store
      store.on('change', (e: any) => {
        const o = e.object
        if (o.kind === 'Pod' && o.metadata.labels?.app === 'helloworld' && o.status?.podIP) ips.push(o.status.podIP)
        if (e.type === 'DELETED' || o.kind !== 'Service' || o.metadata.name !== 'istio-eastwestgateway') return
        if (o.metadata.labels?.['topology.istio.io/network'] === 'network2-gw') return
        store.put({
          ...o,
          metadata: { ...o.metadata, labels: { ...o.metadata.labels, 'topology.istio.io/network': 'network2-gw' } }
        })
      })
    }, {})
    expect(run.exitCode).toBe(1)
    // The helloworld pod of cluster2 (its namespace is gone after the run).
    const ip = ips.at(-1)
    expect(errorsOf(run.stdout)).toContain(
      `cluster1 · verify: helloworld v1, v2 answer: cluster1's proxy sends helloworld traffic for cluster2 to its pod IPs ${ip} instead of its east-west gateway: istiod knows no gateway for the pods' network. topology.istio.io/network in cluster2: namespace istio-system "network2", Service istio-eastwestgateway "network2-gw", helloworld pods (none); they must name one network (the cluster's network in the clusters input)\n`
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
  }, 240_000)

  it('no common root of trust (ca: none): the gateway is reachable, the roots differ', async () => {
    const { run, leaks, sim: s } = await install(() => {}, { ca: 'none' })
    expect(run.exitCode).toBe(1)
    expect(errorsOf(run.stdout)).toMatch(
      // Whichever cluster's check ends first is the error.
      /(cluster\d) · verify: helloworld v1, v2 answer: \1's proxy sends helloworld traffic for (cluster\d) to its gateway 192\.0\.2\.\d:15443, which is reachable, and requests fail: the roots of trust differ \(cacerts root-cert\.pem sha256 in \1: none, self-signed, in \2: none, self-signed\): give every cluster cacerts from one root \(input ca\)\n/
    )
    expect(probeNamespaces(s)).toEqual([])
    expect(leaks).toEqual([])
    // The diagnostics bundle holds what the proxy was given and what the probes found, and no credential.
    const bundle = run.outputs['diagnostics-path']
    const failed = /(cluster\d) · verify: helloworld/.exec(errorsOf(run.stdout))![1]
    const endpoints = JSON.parse(fs.readFileSync(path.join(bundle, failed, 'proxy-endpoints.json'), 'utf8'))
    expect(JSON.stringify(endpoints)).toMatch(/192\.0\.2\.\d/)
    const probes = JSON.parse(fs.readFileSync(path.join(bundle, 'probes.json'), 'utf8')) as any[]
    expect(probes).toContainEqual(
      expect.objectContaining({
        from: failed,
        target: 'gateway',
        status: 'reachable',
        address: expect.stringMatching(/:15443$/)
      })
    )
    for (const f of ['probes.json', `${failed}/proxy-endpoints.json`])
      expect([f, fs.readFileSync(path.join(bundle, f), 'utf8').includes(CANARY)]).toEqual([f, false])
  }, 240_000)
})
