// The probe pods (issue 14) in the simulated clusters: the action's runProbes (src/probes/run.ts) through the real
// kubectl against the Job controller, the pod log and the network model (apiserver/jobs.js, logs.js, probe-pods.js,
// network.js), one fault at a time.
import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSimulation } from '../index.js'
import { ClusterTools } from '../../../src/tools.js'
import { runProbes, ProbeRequest } from '../../../src/probes/run.js'
import { probeChecks } from '../../../src/probes/explain.js'
import { PROBE_SCRIPT } from '../../../src/manifests/probe.js'
import { parseProbeLog } from '../../../src/probes/classify.js'
import { runCommand } from '../../harness/spawn.js'
import { createServer as createTcpServer } from 'node:net'
import { createServer as createHttpsServer } from 'node:https'
import { issueServerCertificate } from '../apiserver/tls.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
let sim: Sim
let dir: string
let tools: ClusterTools
const log: string[] = []
const undo: Array<() => unknown> = []

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-probes-'))
  sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'ip' } }] })
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, sim.kubeconfig())
  tools = new ClusterTools(
    kubeconfig,
    '/nonexistent/istioctl',
    { attempts: 1, baseDelayMs: 0 },
    {
      ...process.env,
      KUBECACHEDIR: join(dir, 'cache'),
      HOME: dir
    }
  )
  // cluster2's east-west gateway: a LoadBalancer Service with 15443 (the simulated service controller gives it 192.0.2.2).
  sim.cluster('cluster2').store.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'istio-eastwestgateway', namespace: 'istio-system' },
    spec: { type: 'LoadBalancer', ports: [{ name: 'tls', port: 15443, targetPort: 15443 }] }
  })
}, 60_000)

afterEach(async () => {
  for (const u of undo.splice(0)) await u()
})

afterAll(async () => {
  await sim?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const c2 = () => sim.cluster('cluster2')
/** cluster1 probes cluster2's API server at `url` with cluster2's CA and `token`, and cluster2's gateway. */
function request(
  url = c2().reachableUrl,
  token = c2().issueToken('istio-system', 'istio-reader-service-account')
): ProbeRequest {
  return {
    from: 'cluster1',
    apiServers: [{ to: 'cluster2', url, caPem: c2().caPem, token }],
    gateways: [{ to: 'cluster2', host: '192.0.2.2' }]
  }
}
const probe = (r: ProbeRequest = request()) =>
  runProbes(tools, [r], { image: 'docker.io/curlimages/curl:8.16.0', timeoutMs: 30_000 }, (l) => log.push(l))
const statusOf = (results: Awaited<ReturnType<typeof probe>>) =>
  Object.fromEntries(results.map((r) => [r.target, r.status]))
const probeNamespaces = (cluster: string) =>
  sim
    .cluster(cluster)
    .store.list('v1', 'Namespace')
    .filter((n: any) => n.metadata.name.startsWith('istio-multicluster-probe'))

describe('probes from inside cluster1', () => {
  it('reach a working API server and gateway, and leave nothing behind', async () => {
    const results = await probe()
    expect(statusOf(results)).toEqual({ 'api-server': 'ok', gateway: 'reachable' })
    expect(probeChecks(results).map((c) => [c.id, c.status])).toEqual([
      ['api-server-reachable/cluster1/cluster2', 'pass'],
      ['gateway-reachable/cluster1/cluster2', 'pass']
    ])
    expect(probeNamespaces('cluster1')).toEqual([])
    // The pod really listed what istiod watches on cluster2, with the reader token.
    expect(c2().requests.some((r) => r.path === '/apis/discovery.k8s.io/v1/endpointslices')).toBe(true)
  }, 60_000)

  it('a loopback address is the pod itself: refused, with the fix', async () => {
    const url = `https://127.0.0.1:${new URL(c2().reachableUrl).port}`
    const [api] = await probe(request(url))
    expect(api).toMatchObject({ status: 'refused', address: url })
    const [check] = probeChecks([api])
    expect(check.message).toBe(
      `cluster1's istiod cannot reach cluster2's API server ${url}: connection refused from inside cluster1`
    )
    expect(check.hint).toBe('it is a loopback address: set api-server for cluster2')
  }, 60_000)

  it('a firewall: timeout for both the API server and the gateway', async () => {
    undo.push(sim.network.firewall('cluster1', 'cluster2'))
    expect(statusOf(await probe())).toEqual({ 'api-server': 'timeout', gateway: 'timeout' })
  }, 60_000)

  it('an intercepting proxy presents another CA: tls-unknown-authority (a real TLS failure)', async () => {
    undo.push(await sim.network.intercept('cluster1', 'cluster2'))
    const [api] = await probe()
    expect(api.status).toBe('tls-unknown-authority')
    expect(api.detail).toMatch(/curl: \(60\) SSL certificate problem/)
  }, 60_000)

  it("a token cluster2 does not accept: unauthorized (cluster2's real 401)", async () => {
    const [api] = await probe(request(undefined, 'not-a-token'))
    expect(api.status).toBe('unauthorized')
    expect(api.detail).toContain('"code":401')
  }, 60_000)

  it('a reader account that may not list pods: forbidden', async () => {
    undo.push(c2().setFault({ kind: 'forbid', match: { pathIncludes: '/api/v1/pods?limit=1' } }))
    const [api] = await probe()
    expect(api.status).toBe('forbidden')
    expect(api.detail).toMatch(/^list pods answered 403 Forbidden: .*cannot list resource \\?"pods\\?"/)
  }, 60_000)

  it('a name nobody serves: unresolvable', async () => {
    const [api] = await probe(request('https://api.cluster2.example.invalid:6443'))
    expect(api.status).toBe('unresolvable')
  }, 60_000)

  it('an L7 load balancer in front of the gateway: not-passthrough, and the fix names an L4 load balancer', async () => {
    undo.push(sim.network.l7Gateway('cluster2'))
    const results = await probe()
    expect(statusOf(results)).toEqual({ 'api-server': 'ok', gateway: 'not-passthrough' })
    expect(probeChecks(results)[1].hint).toMatch(/use an L4 \(network\) load balancer/)
  }, 60_000)

  it('a gateway that forwards only some time after its address appeared: timeout, then reachable', async () => {
    undo.push(sim.network.gatewayForwardsAfter('cluster2', 60 * 60_000))
    expect(statusOf(await probe())).toMatchObject({ gateway: 'timeout' })
    undo.splice(0).forEach((u) => u())
    expect(statusOf(await probe())).toMatchObject({ gateway: 'reachable' })
  }, 60_000)

  it('the pod tries a gateway again every 2 s in real time until it forwards, and says after how many seconds', async () => {
    // cluster2's address appeared when the Service got it (beforeAll): forward 5 s from now.
    const since = Date.parse(
      c2().store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway').metadata.creationTimestamp
    )
    undo.push(sim.network.gatewayForwardsAfter('cluster2', Date.now() - since + 5000))
    const t0 = Date.now()
    const results = await runProbes(
      tools,
      [{ from: 'cluster1', apiServers: [], gateways: [{ to: 'cluster2', host: '192.0.2.2' }] }],
      { image: 'docker.io/curlimages/curl:8.16.0', timeoutMs: 40_000, retryGatewaysMs: 30_000 },
      (l) => log.push(l)
    )
    expect(results.map((r) => r.status)).toEqual(['reachable'])
    // Tries at 0, 2, 4, 6 s of the pod's clock: the first that succeeds is after the 5 s (the pod starts a little
    // after t0, later on a loaded machine, so the upper bound is the time the whole probe took, not a constant).
    const took = Date.now() - t0
    expect(took).toBeGreaterThanOrEqual(5000)
    expect(results[0].seconds).toBeGreaterThanOrEqual(4)
    expect(results[0].seconds).toBeLessThanOrEqual(Math.ceil(took / 1000))
  }, 60_000)

  it('a gateway that does not forward by the retry deadline: its last try, at the deadline', async () => {
    undo.push(sim.network.gatewayForwardsAfter('cluster2', 60 * 60_000))
    const results = await runProbes(
      tools,
      [{ from: 'cluster1', apiServers: [], gateways: [{ to: 'cluster2', host: '192.0.2.2' }] }],
      { image: 'docker.io/curlimages/curl:8.16.0', timeoutMs: 30_000, retryGatewaysMs: 4000 },
      (l) => log.push(l)
    )
    expect(results.map((r) => [r.status, r.seconds])).toEqual([['timeout', 4]])
  }, 60_000)

  it('an image no node can pull: error results naming the pull, and the namespace is still removed', async () => {
    const results = await runProbes(
      tools,
      [request()],
      { image: 'gcr.io/istio-release/curl:1', timeoutMs: 2000 },
      (l) => log.push(l)
    )
    expect(results.map((r) => r.status)).toEqual(['error', 'error'])
    expect(results[0].detail).toMatch(/did not finish within 2 s: probe-\w+ is waiting: ImagePullBackOff/)
    expect(probeChecks(results).map((c) => c.status)).toEqual(['warn', 'warn'])
    expect(probeNamespaces('cluster1')).toEqual([])
  }, 60_000)

  it('Jobs get the API server defaults and status; kubectl logs of a pod that never started says why', async () => {
    const store = sim.cluster('cluster1').store
    store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'jobs' } })
    store.put({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'stuck', namespace: 'jobs' },
      spec: {
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'gcr.io/istio-release/x:1' }] } }
      }
    })
    const job = store.get('batch/v1', 'Job', 'jobs', 'stuck')
    expect(job.spec).toMatchObject({
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } }
    })
    expect(job.status).toMatchObject({ active: 1 })
    const [pod] = store.list('v1', 'Pod', 'jobs')
    expect(pod.metadata.labels).toMatchObject({ 'batch.kubernetes.io/job-name': 'stuck', 'job-name': 'stuck' })
    const err = await tools
      .kubectl('cluster1', ['logs', '-n', 'jobs', pod.metadata.name], () => {})
      .catch((e: any) => e)
    expect(err.stderrTail).toBe(
      `Error from server (BadRequest): container "c" in pod "${pod.metadata.name}" is waiting to start: trying and failing to pull image`
    )
  }, 60_000)

  // The model against the real thing: the probe's script under sh with this machine's curl, against the simulated API
  // server, a listener that closes every TLS handshake (as an AUTO_PASSTHROUGH listener without a matching filter
  // chain) and an HTTPS server (an L7 load balancer): the exit and HTTP codes the simulated probe pod reports.
  it('the real script with the real curl gets the codes the simulated probe pod reports', async () => {
    const d = join(dir, 'etc-probe')
    const { certPem, keyPem } = await issueServerCertificate({ commonName: 'other', ips: ['127.0.0.1'], dnsNames: [] })
    const closer = createTcpServer((sock) => sock.once('data', () => sock.end()))
    const l7 = createHttpsServer({ cert: certPem, key: keyPem }, (_q, res) => res.writeHead(502).end())
    await new Promise<void>((r) => closer.listen(15443, '127.0.0.50', r))
    await new Promise<void>((r) => l7.listen(15443, '127.0.0.51', r))
    try {
      const { mkdirSync } = await import('node:fs')
      mkdirSync(d, { recursive: true })
      const url = c2().reachableUrl
      const files: Record<string, string> = {
        targets: [
          `api-server ok ${url}`,
          `api-server badtoken ${url}`,
          `api-server wrongca ${url}`,
          'api-server loopback https://127.0.0.1:1',
          'api-server nodns https://api.cluster2.example.invalid:6443',
          'gateway passthrough 127.0.0.50',
          'gateway l7 127.0.0.51',
          'gateway refused 127.0.0.52'
        ].join('\n'),
        'ok.ca.crt': c2().caPem,
        'badtoken.ca.crt': c2().caPem,
        'wrongca.ca.crt': certPem,
        'ok.auth': `Authorization: Bearer ${c2().issueToken('istio-system', 'istio-reader-service-account')}\n`,
        'wrongca.auth': '\n',
        'badtoken.auth': 'Authorization: Bearer not-a-token\n',
        'loopback.auth': '\n',
        'nodns.auth': '\n'
      }
      for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), `${v}\n`)
      const r = await runCommand('sh', ['-c', PROBE_SCRIPT.replace('D=/etc/probe', `D=${d}`)])
      const { lines, done } = parseProbeLog(r.stdout)
      expect(done).toBe(true)
      const last = (to: string) =>
        lines
          .filter((l) => l.to === to)
          .map((l) => `${l.step} ${l.exit} ${l.http}`)
          .at(-1)
      expect(
        Object.fromEntries(
          ['ok', 'badtoken', 'wrongca', 'loopback', 'nodns', 'passthrough', 'l7', 'refused'].map((t) => [t, last(t)])
        )
      ).toEqual({
        ok: 'endpointslices 0 200',
        badtoken: 'version 0 401',
        wrongca: 'version 60 0',
        loopback: 'version 7 0',
        nodns: 'version 6 0',
        passthrough: 'connect 35 0',
        l7: 'connect 0 502',
        refused: 'connect 7 0'
      })
      expect(r.stdout).not.toContain('Bearer')
    } finally {
      closer.close()
      l7.close()
    }
  }, 60_000)

  it('never prints the token', () => {
    expect(log.join('\n')).not.toContain('CANARY')
    expect(log.join('\n')).not.toMatch(/Bearer/)
  })
})
