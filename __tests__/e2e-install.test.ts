// End to end: the bundled action (dist/), run as GitHub runs it, against simulated clusters driven by the real kubectl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as yaml from 'js-yaml'
import * as path from 'node:path'
import { runCommand } from '../test/harness/spawn.js'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runAction, visibleLog } from '../test/harness/action.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>

const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')

/** Every place a credential could leak to; returns the places where the canary shows up. */
function canaryHits(run: Run, runner: { runnerTemp: string }, secrets: string[] = []): string[] {
  const needles = [CANARY, ...secrets]
  const places: Record<string, string> = {
    stdout: visibleLog(run.stdout),
    stderr: run.stderr,
    'post stdout': visibleLog(run.post.stdout),
    'post stderr': run.post.stderr,
    outputs: run.rawFiles.output,
    state: run.rawFiles.state,
    env: run.rawFiles.env,
    summary: run.summary
  }
  for (const f of filesBelow(runner.runnerTemp)) places[`file ${f}`] = fs.readFileSync(f, 'utf8')
  return Object.entries(places).flatMap(([where, text]) =>
    needles.filter((n) => text.includes(n)).map((n) => `${where} holds ${n.slice(0, 16)}…`)
  )
}

/** Runs a command of the simulated istioctl the action installed, against one cluster. */
function istioctl(
  bin: string,
  kubeconfig: string,
  args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCommand(bin, [...args, '--kubeconfig', kubeconfig])
}

function assertMesh(sim: Sim, run: Run, opts: { hostname?: string[] } = {}): void {
  const names = sim.clusters.map((c) => c.name)
  const addresses = JSON.parse(run.outputs['gateway-addresses'])
  for (const [i, c] of sim.clusters.entries()) {
    const network = `network${i + 1}`
    const ns = c.store.get('v1', 'Namespace', undefined, 'istio-system')
    expect(ns.metadata.labels['topology.istio.io/network']).toBe(network)

    // Control plane: istiod, and the values it was installed with.
    expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
    const injector = c.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector')
    const values = JSON.parse(injector.data.values)
    expect(values.global).toMatchObject({ meshID: 'mesh1', network, multiCluster: { clusterName: c.name } })

    // East-west gateway Service: labels, ports, LoadBalancer, the address the action published.
    const svc = c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway')
    expect(svc.metadata.labels).toMatchObject({
      istio: 'eastwestgateway',
      app: 'istio-eastwestgateway',
      'topology.istio.io/network': network
    })
    expect(svc.spec.type).toBe('LoadBalancer')
    expect(svc.spec.ports.map((p: any) => [p.name, p.port])).toEqual([
      ['status-port', 15021],
      ['tls', 15443],
      ['tls-istiod', 15012],
      ['tls-webhook', 15017]
    ])
    const ingress = svc.status.loadBalancer.ingress[0]
    expect(addresses[c.name]).toBe(ingress.ip ?? ingress.hostname)
    if (opts.hostname?.includes(c.name)) expect(addresses[c.name]).toMatch(/elb\.us-east-1\.amazonaws\.com$/)
    else expect(addresses[c.name]).toMatch(/^192\.0\.2\.\d+$/)
    expect(run.outputs[`${c.name}-gateway-address`]).toBe(addresses[c.name])
    const deploy = c.store.get('apps/v1', 'Deployment', 'istio-system', 'istio-eastwestgateway')
    expect(deploy.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([{ name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: network }])
    )

    // expose-services
    const gw = c.store.get('networking.istio.io/v1', 'Gateway', 'istio-system', 'cross-network-gateway')
    expect(gw.spec).toEqual({
      selector: { istio: 'eastwestgateway' },
      servers: [
        { port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }
      ]
    })

    // One remote secret per other cluster, whose token works on that cluster and whose server is its reachable address.
    const secrets = c.store
      .list('v1', 'Secret', 'istio-system')
      .filter((s: any) => s.metadata.labels?.['istio/multiCluster'] === 'true')
    expect(secrets.map((s: any) => s.metadata.name).sort()).toEqual(
      names
        .filter((n) => n !== c.name)
        .map((n) => `istio-remote-secret-${n}`)
        .sort()
    )
    for (const s of secrets) {
      const source = sim.cluster(s.metadata.annotations['networking.istio.io/cluster'])
      const kc = b64(s.data[source.name])
      const token = /token: (\S+)/.exec(kc)![1]
      expect(source.tokenIsValid(token)).toBe(true)
      expect(kc).toContain(`server: ${source.reachableUrl}`)
    }
  }
  expect(JSON.parse(run.outputs.clusters)).toEqual(
    sim.clusters.map((c, i) => ({
      name: c.name,
      network: `network${i + 1}`,
      context: c.name,
      gatewayAddress: addresses[c.name],
      status: 'ok'
    }))
  )
  expect(run.outputs.verified).toBe('true')
}

describe('e2e: two clusters, then a re-run', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let first: Run
  let second: Run
  let inputs: Record<string, string>
  let bytesAfterFirst = 0
  const body = { afterFirst: 0, afterSecond: 0, afterLatest: 0, notModifiedBeforeLatest: 0 }
  let latest: Run

  beforeAll(async () => {
    sim = await startSimulation({
      clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'hostname', delayMs: 300 } }]
    })
    runner = makeRunner()
    // cluster2's kubeconfig comes from an environment variable (base64), cluster1's from the kubeconfig input.
    inputs = {
      clusters: sim.clustersInput({ cluster2: { 'kubeconfig-env': 'CLUSTER2_KUBECONFIG' } }),
      kubeconfig: sim.kubeconfig(['cluster1']),
      'istio-version': '1.30',
      ...sim.inputs
    }
    const env = { ...sim.env, CLUSTER2_KUBECONFIG: Buffer.from(sim.kubeconfig(['cluster2'])).toString('base64') }
    first = await runAction({ inputs, env, runner })
    bytesAfterFirst = sim.releases.bytesServed
    body.afterFirst = sim.releases.bodyBytes
    second = await runAction({ inputs, env, runner })
    body.afterSecond = sim.releases.bodyBytes
    body.notModifiedBeforeLatest = sim.releases.notModified
    // `latest` on the same runner: the lookup of page one is warm from the runs before (mode: plan is the cheapest
    // run that resolves the version).
    latest = await runAction({ inputs: { ...inputs, 'istio-version': 'latest', mode: 'plan' }, env, runner })
    body.afterLatest = sim.releases.bodyBytes
  }, 300_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('succeeds and builds the mesh, object by object', () => {
    if (first.exitCode !== 0) console.log(first.stdout, first.stderr)
    expect(first.exitCode).toBe(0)
    assertMesh(sim, first, { hostname: ['cluster2'] })
    expect(first.outputs['istio-version']).toBe('1.30.3')
    expect(first.outputs['istioctl-path']).toBe(
      path.join(runner.toolCache, 'istioctl', '1.30.3', process.arch, 'istioctl')
    )
    expect(first.path.trim()).toBe(path.dirname(first.outputs['istioctl-path']))
  })

  it('every remote cluster is synced, as the installed istioctl reports it', async () => {
    const kcFile = path.join(runner.home, 'check-kubeconfig')
    for (const c of sim.clusters) {
      // client-go reads only the first document of a kubeconfig file: one file per cluster.
      fs.writeFileSync(kcFile, sim.kubeconfig([c.name]), { mode: 0o600 })
      const r = await istioctl(first.outputs['istioctl-path'], kcFile, ['remote-clusters', '--context', c.name])
      expect(r.code).toBe(0)
      for (const other of sim.clusters.filter((o) => o !== c))
        expect(r.stdout).toMatch(
          new RegExp(`^${other.name}\\s+istio-system/istio-remote-secret-${other.name}\\s+synced`, 'm')
        )
    }
    fs.rmSync(kcFile)
  })

  it('logs each step as a group, and writes a summary with the table and the mesh picture', () => {
    expect(first.stdout).toMatch(/^::group::✔ cluster1 · control plane \(istioctl install\) \(\d+\.\d s\)$/m)
    expect(first.stdout).toMatch(
      /^::group::✔ cluster2 · gateway address \(\d+\.\d s\): a\S+\.elb\.us-east-1\.amazonaws\.com$/m
    )
    expect(first.stdout).toMatch(/^▸ cluster1 · remote secrets of cluster2 \[cluster1\/remote-secrets-in\]$/m)
    // Each cluster is read again on its own once its steps are done; reads show their command, never what came back.
    for (const c of ['cluster1', 'cluster2'])
      expect(first.stdout).toMatch(
        new RegExp(
          `^::group::${c} · read istio-system again \\(what changed\\) \\(\\d+\\.\\d s\\)\\n\\$ kubectl --context ${c} get namespaces,`,
          'm'
        )
      )
    expect(first.stdout).not.toMatch(/"kind": "Namespace"/)
    expect(first.summary).toMatch(/\| cluster1 \| ✅ ok \| network1 \| `192\.0\.2\.\d+` \| [\d.]+ s \|/)
    expect(first.summary).toContain('<details><summary>Step durations per cluster</summary>')
    expect(first.summary).not.toContain('What went wrong')
    expect(first.summary).toContain('```mermaid')
    expect(first.summary).toContain('c_cluster1 <-- remote secrets --> c_cluster2')
    expect(first.summary).toMatch(/\| cluster1 \| · \| synced \|/)
  })

  it('leaves no credential behind: the canary is nowhere in logs, outputs, state, summary or RUNNER_TEMP after post', () => {
    expect(canaryHits(first, runner)).toEqual([])
    expect(canaryHits(second, runner)).toEqual([])
    expect(filesBelow(runner.runnerTemp).filter((f) => f.includes('istio-multicluster-'))).toEqual([])
    expect(first.post.exitCode).toBe(0)
  })

  it('masks every token it handled (::add-mask:: before use)', () => {
    for (const c of sim.clusters) expect(first.stdout).toContain(`::add-mask::${c.adminToken}`)
  })

  it('a second run converges: succeeds, downloads nothing, the mesh unchanged', () => {
    if (second.exitCode !== 0) console.log(second.stdout, second.stderr)
    expect(second.exitCode).toBe(0)
    assertMesh(sim, second, { hostname: ['cluster2'] })
    expect(second.stdout).toContain('from the tool cache')
    expect(second.stdout).toMatch(/namespace\/istio-system unchanged/)
    expect(second.stdout).toMatch(/gateway\.networking\.istio\.io\/cross-network-gateway unchanged/)
    expect(second.stdout).toMatch(/secret\/istio-remote-secret-cluster2 unchanged/)
  })

  it('downloads istioctl once: the second run takes it from the tool cache (0 bytes)', () => {
    expect(bytesAfterFirst).toBeGreaterThan(0)
    expect(sim.releases.bytesServed).toBe(bytesAfterFirst)
  })

  it('a warm run transfers no body: the releases lookup is answered 304 (ETag), istioctl comes from the tool cache', () => {
    expect(body.afterFirst).toBeGreaterThan(0)
    expect(body.afterSecond - body.afterFirst).toBe(0)
    if (latest.exitCode !== 0) console.log(latest.stdout, latest.stderr)
    expect(latest.exitCode).toBe(0)
    expect(latest.outputs['istio-version']).toBe('1.31.1')
    expect(body.afterLatest - body.afterSecond).toBe(0)
    expect(sim.releases.notModified).toBeGreaterThan(body.notModifiedBeforeLatest)
  })

  it('sends the github token to the releases API only, never to the download site', () => {
    const api = sim.releases.requests.filter((r: any) => r.path.includes('/repos/istio/istio/releases'))
    expect(api.length).toBeGreaterThan(0)
    for (const r of api) expect(r.authorization).toBe(`Bearer ${sim.inputs['github-token']}`)
    const downloads = sim.releases.requests.filter((r: any) => !r.path.includes('/repos/'))
    expect(downloads.length).toBeGreaterThan(0)
    for (const r of downloads) expect(r.authorization).toBeUndefined()
  })
})

describe('e2e: three clusters', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let run: Run

  beforeAll(async () => {
    sim = await startSimulation({
      clusters: [{ name: 'east' }, { name: 'west' }, { name: 'central', lb: { mode: 'ip', delayMs: 500 } }]
    })
    runner = makeRunner()
    run = await runAction({
      inputs: { clusters: sim.clustersInput(), kubeconfig: sim.kubeconfig(), 'istio-version': '1.31.1', ...sim.inputs },
      env: sim.env,
      runner
    })
  }, 240_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('builds the mesh with all six remote secrets, verified', () => {
    if (run.exitCode !== 0) console.log(run.stdout, run.stderr)
    expect(run.exitCode).toBe(0)
    assertMesh(sim, run)
    expect(canaryHits(run, runner)).toEqual([])
  })
})

describe('e2e: inputs that shape the install', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let run: Run
  let kubeconfigBetween: { exists: boolean; mode: number; contexts: string[] } | undefined

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    const inputs = {
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      'mesh-id': 'preview-42',
      'operator-overlay':
        'spec:\n  meshConfig:\n    accessLogFile: /dev/stdout\n  components:\n    ingressGateways:\n    - name: istio-ingressgateway\n      enabled: false',
      'gateway-service-annotations':
        'service.beta.kubernetes.io/aws-load-balancer-type: nlb\nservice.beta.kubernetes.io/aws-load-balancer-scheme: internal',
      'max-parallel': '1',
      'export-kubeconfig': 'true',
      verify: 'none',
      ...sim.inputs
    }
    // Main and post by hand, to look at the exported kubeconfig in between, as a later step would.
    const { runEntry } = await import('../test/harness/action.js')
    const main = await runEntry({ inputs, env: sim.env, runner, entry: 'main' })
    const file = main.exportedEnv.KUBECONFIG
    kubeconfigBetween =
      file && fs.existsSync(file)
        ? {
            exists: true,
            mode: fs.statSync(file).mode & 0o777,
            contexts: (yaml.load(fs.readFileSync(file, 'utf8')) as { contexts: { name: string }[] }).contexts.map(
              (c) => c.name
            )
          }
        : undefined
    const post = await runEntry({ inputs, env: sim.env, runner, entry: 'post', state: main.state })
    run = { ...main, post }
  }, 120_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('passes mesh-id and the overlay to istiod, which the simulated istioctl validates strictly', () => {
    if (run.exitCode !== 0) console.log(run.stdout)
    expect(run.exitCode).toBe(0)
    for (const c of sim.clusters) {
      const values = JSON.parse(c.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values)
      expect(values.global.meshID).toBe('preview-42')
      expect(c.store.get('v1', 'ConfigMap', 'istio-system', 'istio').data.mesh).toContain('accessLogFile: /dev/stdout')
      // The overlay disabled the default ingress gateway; the east-west gateway (its own IstioOperator) is there.
      expect(c.store.get('v1', 'Service', 'istio-system', 'istio-ingressgateway')).toBeUndefined()
      expect(c.store.get('v1', 'Service', 'istio-system', 'istio-eastwestgateway').metadata.annotations).toMatchObject({
        'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
        'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal'
      })
    }
  })

  it('max-parallel: 1 runs one step at a time', () => {
    const lines = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('▸ ') || l.startsWith('::group::✔') || l.startsWith('::group::✖'))
    // Every step of two clusters (namespace … expose services, remote secrets): the loop below has something to check.
    expect(lines.length).toBeGreaterThanOrEqual(2 * 2 * 6)
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^▸ /)
      expect(lines[i + 1]).toMatch(/^::group::/)
      expect(lines[i + 1]).toContain(lines[i].slice(2).replace(/ \[\S+\]$/, ''))
    }
  })

  it('export-kubeconfig hands later steps a 0600 kubeconfig with one context per cluster, removed by post', () => {
    expect(kubeconfigBetween).toEqual({ exists: true, mode: 0o600, contexts: ['cluster1', 'cluster2'] })
    expect(fs.existsSync(run.exportedEnv.KUBECONFIG)).toBe(false)
    expect(canaryHits(run, runner)).toEqual([])
  })
})

describe('e2e: clusters that share a network', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>

  beforeAll(async () => {
    sim = await startSimulation({ clusters: [{ name: 'east' }, { name: 'west' }, { name: 'central' }] })
    runner = makeRunner()
  })

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  // mode: plan reads the clusters and changes nothing: the warning comes from the inputs alone.
  const plan = (networks: Record<string, string>) =>
    runAction({
      inputs: {
        clusters: sim.clustersInput(
          Object.fromEntries(Object.entries(networks).map(([c, network]) => [c, { network }]))
        ),
        kubeconfig: sim.kubeconfig(),
        'istio-version': '1.30.3',
        mode: 'plan',
        ...sim.inputs
      },
      env: sim.env,
      runner
    })
  const kinds = (plan: string, cluster: string) =>
    JSON.parse(plan)
      .clusters.find((c: { cluster: string }) => c.cluster === cluster)
      .actions.map((a: { step: string }) => a.step)

  // Sharing a network value is the same-network topology (istio.io "Install Multi-Primary"): said, not warned about.
  it('no warning when clusters share a network; only a cluster with a peer on another network gets a gateway', async () => {
    const r = await plan({ east: 'lan', west: 'lan', central: 'dc2' })
    if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
    expect(r.exitCode).toBe(0)
    expect(r.stdout).not.toMatch(/::warning::.*network/)
    // every cluster has a peer on another network here (central ↔ east, west): all three get one
    for (const c of ['east', 'west', 'central']) expect(kinds(r.outputs.plan, c)).toContain('eastwest-gateway')
  })

  it('one network for all: no east-west gateway, no expose-services, remote secrets both ways', async () => {
    const r = await plan({ east: 'lan', west: 'lan', central: 'lan' })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).not.toMatch(/::warning::.*network/)
    for (const c of ['east', 'west', 'central']) {
      expect(kinds(r.outputs.plan, c)).toEqual([
        'namespace',
        'root-of-trust',
        'control-plane',
        'remote-secret',
        'remote-secrets-in',
        'verify'
      ])
    }
  })
})
