// The simulated API server, driven by the real kubectl (v1.32) exactly as the action drives clusters.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { spawn } from 'node:child_process'
import { runCommand } from '../../harness/spawn.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApiServer, type SimCluster } from '../apiserver/index.js'
import { jsonPatch, mergePatch, strategicMergePatch } from '../apiserver/patch.js'
import { webhookFaultBody } from '../apiserver/faults.js'

const CANARY = 'CANARY-do-not-log'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

interface Target {
  sim: SimCluster
  kubeconfig: string
  cacheDir: string
}

let dir: string
let c1: Target // LB gives an IP after a short delay; deployments become ready after a delay
let c2: Target // LB gives an AWS-style hostname
let c3: Target // no LB controller

async function target(
  name: string,
  index: number,
  opts: Partial<Parameters<typeof startApiServer>[0]> = {}
): Promise<Target> {
  const sim = await startApiServer({ name, index, adminToken: `token-${name}-${CANARY}`, ...opts })
  const kubeconfig = join(dir, `${name}.kubeconfig`)
  writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 })
  return { sim, kubeconfig, cacheDir: join(dir, `${name}-cache`) }
}

function env(t: Target, kubeconfig = t.kubeconfig): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: t.cacheDir, HOME: dir }
}

/** Runs kubectl asynchronously (the server lives in this process: spawnSync would deadlock). */
function kubectl(t: Target, args: string[], opts: { stdin?: string; kubeconfig?: string } = {}): Promise<Run> {
  return runCommand('kubectl', args, { env: env(t, opts.kubeconfig), stdin: opts.stdin })
}

/** Starts a long-running kubectl (get -w) and resolves with its output once `until` matches it. */
function kubectlUntil(t: Target, args: string[], until: RegExp, timeoutMs = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('kubectl', args, { env: env(t) })
    let out = ''
    const timer = setTimeout(() => {
      p.kill()
      reject(new Error(`timed out waiting for ${until} in: ${out}`))
    }, timeoutMs)
    p.stdout.on('data', (d) => {
      out += d
      if (until.test(out)) {
        clearTimeout(timer)
        p.kill()
        resolve(out)
      }
    })
    p.stderr.on('data', (d) => (out += d))
  })
}

const apply = (t: Target, yaml: string, ...args: string[]) => kubectl(t, ['apply', '-f', '-', ...args], { stdin: yaml })

/** `kubectl wait --for=jsonpath=<condition>` on the east-west gateway's Service. */
const waitForGateway = (t: Target, condition: string, timeout: string) =>
  kubectl(t, [
    'wait',
    `--for=jsonpath=${condition}`,
    'svc/istio-eastwestgateway',
    '-n',
    'istio-system',
    `--timeout=${timeout}`
  ])

function namespaceYaml(name: string, network: string): string {
  return `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n  labels:\n    topology.istio.io/network: ${network}\n`
}

function gatewayServiceYaml(ns: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: istio-eastwestgateway
  namespace: ${ns}
spec:
  type: LoadBalancer
  selector: {istio: eastwestgateway}
  ports:
  - {name: status-port, port: 15021, targetPort: 15021}
  - {name: tls, port: 15443, targetPort: 15443}
`
}

const gatewayCrYaml = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
spec:
  selector:
    istio: eastwestgateway
  servers:
    - port: {number: 15443, name: tls, protocol: TLS}
      tls:
        mode: AUTO_PASSTHROUGH
      hosts:
        - "*.local"
`

const gatewayCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gateways.networking.istio.io' },
  spec: {
    group: 'networking.istio.io',
    names: { kind: 'Gateway', listKind: 'GatewayList', plural: 'gateways', singular: 'gateway', shortNames: ['gw'] },
    scope: 'Namespaced',
    versions: ['v1', 'v1beta1', 'v1alpha3'].map((name) => ({
      name,
      served: true,
      storage: name === 'v1alpha3',
      schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }
    }))
  }
}

const b64 = (s: string) => Buffer.from(s, 'base64').toString()

/** GET over HTTPS with the admin token; resolves with the whole body once the server ends it. */
function raw(sim: SimCluster, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}${path}`,
      { ca: sim.caPem, headers: { authorization: `Bearer ${sim.adminToken}` } },
      (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve(body))
      }
    )
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-apiserver-test-'))
  ;[c1, c2, c3] = await Promise.all([
    target('cluster1', 1, { lb: { mode: 'ip', delayMs: 700 }, deploymentReadyDelayMs: 300 }),
    target('cluster2', 2, { lb: { mode: 'hostname', delayMs: 100 } }),
    target('cluster3', 3, { lb: { mode: 'none' }, istioctlDelays: { install: 250 } })
  ])
})

afterAll(async () => {
  await Promise.all([c1, c2, c3].filter(Boolean).map((t) => t.sim.close()))
  rmSync(dir, { recursive: true, force: true })
})

describe('authentication and addresses', () => {
  it('answers a wrong token with 401 (recorded before auth) and kubectl reports Unauthorized', async () => {
    const bad = join(dir, 'bad.kubeconfig')
    writeFileSync(bad, c1.sim.kubeconfig().replace(c1.sim.adminToken, 'wrong-token'))
    const before = c1.sim.requests.length
    const r = await kubectl(c1, ['get', 'ns'], { kubeconfig: bad })
    expect(r.code).toBe(1)
    // With no discovery cached yet kubectl words it "the server has asked for the client to provide credentials".
    expect(r.stderr).toContain('error: You must be logged in to the server')
    expect(c1.sim.requests.length).toBeGreaterThan(before)
    expect(c1.sim.tokenIsValid('wrong-token')).toBe(false)
    expect(c1.sim.tokenIsValid(c1.sim.adminToken)).toBe(true)
  })

  it('serves the same API on the reachable address 127.0.0.<index+1>', async () => {
    expect(c2.sim.reachableUrl).toBe(c2.sim.url.replace('127.0.0.1', '127.0.0.3'))
    const other = join(dir, 'reachable.kubeconfig')
    writeFileSync(other, c2.sim.kubeconfig('via-reachable').replace(c2.sim.url, c2.sim.reachableUrl))
    const r = await kubectl(c2, ['get', 'ns', 'kube-system', '-o', 'jsonpath={.metadata.uid}'], { kubeconfig: other })
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(c2.sim.store.get('v1', 'Namespace', undefined, 'kube-system')?.metadata.uid)
  })

  it('stops accepting the admin token on expireToken, and refuses with 403 on forbid', async () => {
    const remove = c2.sim.setFault({ kind: 'expireToken' })
    let r = await kubectl(c2, ['get', 'ns'])
    remove()
    expect(r.stderr).toContain('error: You must be logged in to the server')
    c2.sim.setFault({ kind: 'forbid', count: 1, match: { pathIncludes: '/secrets' } })
    r = await kubectl(c2, ['get', 'secrets', '-n', 'default'])
    expect(r.stderr).toContain(
      'Error from server (Forbidden): secrets is forbidden: User "kubernetes-admin" cannot list resource "secrets"'
    )
    r = await kubectl(c2, ['get', 'secrets', '-n', 'default'])
    expect(r.code).toBe(0)
  })
})

describe('apply, label, secrets', () => {
  it('converges a Namespace on re-apply and reports an identical apply as unchanged', async () => {
    let r = await apply(c1, namespaceYaml('istio-system', 'network1'))
    expect(r.stdout).toContain('namespace/istio-system created')
    r = await apply(c1, namespaceYaml('istio-system', 'network1'))
    expect(r.stdout).toContain('namespace/istio-system unchanged')
    r = await apply(c1, namespaceYaml('istio-system', 'network9'))
    expect(r.stdout).toContain('namespace/istio-system configured')
    const ns = c1.sim.store.get('v1', 'Namespace', undefined, 'istio-system')
    expect(ns?.metadata.labels).toEqual({
      'kubernetes.io/metadata.name': 'istio-system',
      'topology.istio.io/network': 'network9'
    })
    expect(ns?.status).toEqual({ phase: 'Active' })
  })

  it('labels a namespace with --overwrite', async () => {
    const r = await kubectl(c1, [
      'label',
      'namespace',
      'istio-system',
      'topology.istio.io/network=network1',
      '--overwrite'
    ])
    expect(r.stdout).toContain('namespace/istio-system labeled')
    const got = await kubectl(c1, [
      'get',
      'ns',
      'istio-system',
      '-o',
      'jsonpath={.metadata.labels.topology\\.istio\\.io/network}'
    ])
    expect(got.stdout).toBe('network1')
  })

  it('refuses an invalid label value like a real server', async () => {
    const r = await apply(c1, namespaceYaml('istio-system', 'Net_2!'))
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('The Namespace "istio-system" is invalid: metadata.labels: Invalid value: "Net_2!"')
  })

  it('stores a Secret applied with stringData as base64 data', async () => {
    const yaml = `apiVersion: v1\nkind: Secret\nmetadata: {name: cacerts, namespace: istio-system}\nstringData:\n  root-cert.pem: "-----BEGIN CERTIFICATE-----"\n`
    const r = await apply(c1, yaml)
    expect(r.stdout).toContain('secret/cacerts created')
    const s = c1.sim.store.get('v1', 'Secret', 'istio-system', 'cacerts')
    expect(s?.stringData).toBeUndefined()
    expect(s?.type).toBe('Opaque')
    expect(b64(s?.data['root-cert.pem'])).toBe('-----BEGIN CERTIFICATE-----')
  })

  it('refuses protobuf bodies (kubectl create <kind>) with a clear 415', async () => {
    const r = await kubectl(c1, ['create', 'namespace', 'made-by-create'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('does not decode protobuf')
  })
})

describe('load balancer controller', () => {
  it('assigns an IP after the delay; get -w and wait --for=jsonpath see it appear', async () => {
    await apply(c1, gatewayServiceYaml('istio-system'))
    const svc = ['svc', 'istio-eastwestgateway', '-n', 'istio-system']
    const before = await kubectl(c1, ['get', ...svc, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])
    expect(before.stdout).toBe('')
    const table = await kubectl(c1, ['get', 'svc', '-n', 'istio-system'])
    expect(table.stdout).toMatch(
      /istio-eastwestgateway\s+LoadBalancer\s+10\.96\.\d+\.\d+\s+<pending>\s+15021:\d+\/TCP,15443:\d+\/TCP/
    )

    const [watched, waited] = await Promise.all([
      kubectlUntil(
        c1,
        ['get', ...svc, '-w', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}{"\\n"}'],
        /192\.0\.2\.1/
      ),
      waitForGateway(c1, '{.status.loadBalancer.ingress[0].ip}=192.0.2.1', '10s')
    ])
    expect(watched.trim().split('\n').pop()).toBe('192.0.2.1')
    expect(waited.stdout).toContain('condition met')
    const after = await kubectl(c1, ['get', ...svc, '-o', 'jsonpath={.status.loadBalancer.ingress}'])
    expect(JSON.parse(after.stdout)).toEqual([{ ip: '192.0.2.1' }])
  })

  it('assigns an AWS-style hostname in hostname mode', async () => {
    await apply(c2, namespaceYaml('istio-system', 'network2'))
    await apply(c2, gatewayServiceYaml('istio-system'))
    const r = await waitForGateway(c2, '{.status.loadBalancer.ingress[0].hostname}', '10s')
    expect(r.stdout).toContain('condition met')
    const got = await kubectl(c2, [
      'get',
      'svc',
      'istio-eastwestgateway',
      '-n',
      'istio-system',
      '-o',
      'jsonpath={.status.loadBalancer.ingress[0].hostname}'
    ])
    expect(got.stdout).toMatch(/^a[0-9a-f]+-2\.elb\.us-east-1\.amazonaws\.com$/)
  })

  it('never assigns one in mode none, and records an Event on the Service instead', async () => {
    await apply(c3, namespaceYaml('istio-system', 'network3'))
    await apply(c3, gatewayServiceYaml('istio-system'))
    const events = await kubectl(c3, [
      'get',
      'events',
      '-n',
      'istio-system',
      '--field-selector',
      'involvedObject.name=istio-eastwestgateway,involvedObject.kind=Service'
    ])
    expect(events.stdout).toMatch(
      /Normal\s+EnsuringLoadBalancer\s+service\/istio-eastwestgateway\s+Ensuring load balancer/
    )
    const none = await kubectl(c3, [
      'get',
      'events',
      '-n',
      'istio-system',
      '--field-selector',
      'involvedObject.name=nothing-by-this-name'
    ])
    expect(none.stderr).toContain('No resources found')
    const r = await waitForGateway(c3, '{.status.loadBalancer.ingress[0].ip}=192.0.2.3', '1s')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('timed out waiting for the condition')
  })
})

describe('controllers', () => {
  it('fills service-account token Secrets with a token valid on the server, ca.crt and namespace', async () => {
    const yaml = `apiVersion: v1
kind: ServiceAccount
metadata: {name: istio-reader-service-account, namespace: istio-system}
---
apiVersion: v1
kind: Secret
metadata:
  name: istio-reader-service-account-istio-remote-secret-token
  namespace: istio-system
  annotations: {kubernetes.io/service-account.name: istio-reader-service-account}
type: kubernetes.io/service-account-token
`
    await apply(c2, yaml)
    const r = await kubectl(c2, [
      'get',
      'secret',
      'istio-reader-service-account-istio-remote-secret-token',
      '-n',
      'istio-system',
      '-o',
      'json'
    ])
    const secret = JSON.parse(r.stdout)
    const token = b64(secret.data.token)
    expect(b64(secret.data['ca.crt'])).toBe(c2.sim.caPem)
    expect(b64(secret.data.namespace)).toBe('istio-system')
    expect(c2.sim.tokenIsValid(token)).toBe(true)
    expect(c1.sim.tokenIsValid(token)).toBe(false)
    const asReader = await kubectl(c2, ['--token', token, 'get', 'ns', 'istio-system', '-o', 'name'])
    expect(asReader.stdout.trim()).toBe('namespace/istio-system')
  })

  it('rolls out Deployments: Pods labelled like the template, status ready after the delay', async () => {
    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  replicas: 2
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod, istio: pilot}}
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.30.0
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
`
    await apply(c1, yaml)
    const status = await kubectl(c1, ['rollout', 'status', 'deployment/istiod', '-n', 'istio-system', '--timeout=10s'])
    expect(status.stdout).toContain('successfully rolled out')
    const pods = await kubectl(c1, [
      'get',
      'pods',
      '-n',
      'istio-system',
      '-l',
      'app=istiod,istio in (pilot,x),!missing',
      '-o',
      'jsonpath={range .items[*]}{.status.phase}{"\\n"}{end}'
    ])
    expect(pods.stdout.trim().split('\n')).toEqual(['Running', 'Running'])
    const d = c1.sim.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')
    expect(d?.status).toMatchObject({
      replicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      updatedReplicas: 2,
      observedGeneration: 1
    })

    // A strategic merge patch keeps list items keyed by name.
    await apply(c1, yaml.replace('value: "2"', 'value: "3"'))
    const env = c1.sim.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')?.spec.template.spec.containers[0]
      .env
    expect(env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' }
    ])
  })
})

describe('pod logs', () => {
  let t: Target
  beforeAll(async () => {
    // Its own server: a short remote-cluster timeout, so istiod's "failed to sync" line comes within the test.
    t = await target('logs', 9, { remoteClusters: { timeoutMs: 200 } })
  })
  afterAll(() => t?.sim.close())

  it("serves istiod's secret-controller lines per remote secret, the tail, and refuses an unknown container", async () => {
    await apply(t, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: istio-system}\n')
    await apply(
      t,
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  replicas: 1
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec:
      containers:
      - {name: discovery, image: docker.io/istio/pilot:1.30.3}
---
apiVersion: v1
kind: Secret
metadata:
  name: istio-remote-secret-east
  namespace: istio-system
  labels: {istio/multiCluster: "true"}
stringData:
  east: |
    apiVersion: v1
    kind: Config
    clusters:
    - name: east
      cluster: {server: "https://127.0.0.1:6443"}
`
    )
    await new Promise((r) => setTimeout(r, 300))
    const out = await kubectl(t, ['logs', '-n', 'istio-system', 'deployment/istiod', '-c', 'discovery'])
    expect([out.code, out.stderr]).toEqual([0, ''])
    const lines = out.stdout.trimEnd().split('\n')
    const ts = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z`
    expect(lines.map((l) => l.replace(new RegExp(`^${ts}\t`), ''))).toEqual([
      'info\tStarting multicluster remote secrets controller',
      'info\tprocessing remote config event for istio-system/istio-remote-secret-east',
      'info\tAdd cluster\tcluster=east config=istio-system/istio-remote-secret-east',
      'info\tNumber of remote clusters: 1',
      // 127.0.0.1 from a pod is the pod itself: the cluster never syncs.
      'error\tremote cluster east failed to sync after 200ms'
    ])
    const tail = await kubectl(t, ['logs', '-n', 'istio-system', '-l', 'app=istiod', '-c', 'discovery', '--tail=1'])
    expect(tail.stdout.trim()).toMatch(/\terror\tremote cluster east failed to sync after 200ms$/)
    const pod = t.sim.store.list('v1', 'Pod', 'istio-system')[0].metadata.name
    const bad = await kubectl(t, ['logs', '-n', 'istio-system', pod, '-c', 'nope'])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain(`container nope is not valid for pod ${pod}`)
  })
})

describe('custom resources', () => {
  it('fails like real kubectl before the CRD exists, serves the kind once stored, forgets it when deleted', async () => {
    let r = await apply(c1, gatewayCrYaml, '-n', 'istio-system')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('no matches for kind "Gateway" in version "networking.istio.io/v1"')

    c1.sim.store.put(gatewayCrd)
    r = await apply(c1, gatewayCrYaml, '-n', 'istio-system')
    expect(r.stdout).toContain('gateway.networking.istio.io/cross-network-gateway created')
    r = await apply(c1, gatewayCrYaml, '-n', 'istio-system')
    expect(r.stdout).toContain('unchanged')
    r = await apply(c1, gatewayCrYaml.replace('AUTO_PASSTHROUGH', 'ISTIO_MUTUAL'), '-n', 'istio-system')
    expect(r.stdout).toContain('configured')
    const gw = c1.sim.store.get('networking.istio.io/v1alpha3', 'Gateway', 'istio-system', 'cross-network-gateway')
    expect(gw?.apiVersion).toBe('networking.istio.io/v1alpha3')
    expect(gw?.spec.servers[0].tls.mode).toBe('ISTIO_MUTUAL')

    c1.sim.store.delete(
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      undefined,
      'gateways.networking.istio.io'
    )
    const versions = await kubectl(c1, ['api-versions'])
    expect(versions.stdout).not.toContain('networking.istio.io')
  })
})

describe('watch', () => {
  it('streams changes matching the selectors, resumes from a resourceVersion, ends after timeoutSeconds', async () => {
    const { store } = c3.sim
    const cm = (name: string, data: Record<string, string>) =>
      store.put({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, namespace: 'default', labels: { watched: 'yes' } },
        data
      })
    const first = cm('w', { v: '1' })
    const started = Date.now()
    const streamed = raw(
      c3.sim,
      `/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Dw&resourceVersion=${first.metadata.resourceVersion}`
    )
    await new Promise((r) => setTimeout(r, 100))
    cm('other', { v: '1' })
    cm('w', { v: '2' })
    store.delete('v1', 'ConfigMap', 'default', 'w')
    const events = (await streamed)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    expect(events.map((e) => [e.type, e.object.metadata.name, e.object.data?.v])).toEqual([
      ['MODIFIED', 'w', '2'],
      ['DELETED', 'w', '2']
    ])

    // Without a resourceVersion a watch starts with ADDED for what exists; label selectors filter.
    cm('w', { v: '3' })
    const initial = (await raw(c3.sim, '/api/v1/configmaps?watch=true&timeoutSeconds=1&labelSelector=watched%3Dyes'))
      .trim()
      .split('\n')
    expect(initial.map((l) => JSON.parse(l).object.metadata.name).sort()).toEqual(['other', 'w'])
  })
})

describe('deletion', () => {
  it('deleting a namespace deletes what it contains', async () => {
    await apply(c2, namespaceYaml('doomed', 'network-doomed'))
    await apply(c2, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: doomed}\ndata: {a: b}\n`)
    expect(c2.sim.store.get('v1', 'ConfigMap', 'doomed', 'cm')).toBeDefined()
    const r = await kubectl(c2, ['delete', 'namespace', 'doomed'])
    expect(r.stdout).toContain('namespace "doomed" deleted')
    expect(c2.sim.store.all().filter((o) => o.metadata.namespace === 'doomed')).toEqual([])
    const get = await kubectl(c2, ['get', 'configmaps', '-n', 'doomed'])
    expect(get.stderr).toContain('No resources found')
  })
})

describe('faults', () => {
  it('503 with Retry-After is retried by kubectl; without it kubectl fails at once', async () => {
    const match = { pathIncludes: '/api/v1/namespaces/kube-system' }
    c3.sim.setFault({ kind: 'status', code: 503, count: 1, retryAfter: 1, match })
    let r = await kubectl(c3, ['get', 'ns', 'kube-system', '-o', 'name'])
    expect(r.stdout.trim()).toBe('namespace/kube-system')
    c3.sim.setFault({ kind: 'status', code: 503, count: 1, match })
    r = await kubectl(c3, ['get', 'ns', 'kube-system', '-o', 'name'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error from server (ServiceUnavailable)')
  })

  it('a reset connection on a GET is retried by kubectl; a hang ends in a client timeout', async () => {
    c3.sim.setFault({ kind: 'reset', count: 1, match: { method: 'GET', pathIncludes: '/namespaces/default' } })
    const before = c3.sim.requests.filter((q) => q.path === '/api/v1/namespaces/default').length
    let r = await kubectl(c3, ['get', 'ns', 'default', '-o', 'name'])
    expect(r.stdout.trim()).toBe('namespace/default')
    expect(c3.sim.requests.filter((q) => q.path === '/api/v1/namespaces/default').length - before).toBe(2)
    c3.sim.setFault({ kind: 'hang', count: 1, match: { pathIncludes: '/namespaces/default' } })
    r = await kubectl(c3, ['get', 'ns', 'default', '--request-timeout=1s'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/Client.Timeout exceeded|context deadline exceeded/)
  })

  it('adds latency to every request', async () => {
    const remove = c3.sim.setFault({ kind: 'latency', ms: 300 })
    const started = Date.now()
    const r = await kubectl(c3, ['get', 'ns', 'default', '-o', 'name'])
    remove()
    expect(r.stdout.trim()).toBe('namespace/default')
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
  })

  it("webhook: a write fails once with the API server's 500 for a webhook it cannot call; reads pass; then the write does", async () => {
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hooked\n  namespace: default\ndata:\n  a: "1"\n'
    c3.sim.setFault({ kind: 'webhook', count: 1, match: { pathIncludes: '/namespaces/default/configmaps' } })
    const failed = await kubectl(c3, ['apply', '-f', '-'], { stdin: cm })
    expect(failed.code).toBe(1)
    expect(failed.stderr).toBe(
      'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": no endpoints available for service "istiod"\n'
    )
    expect((await kubectl(c3, ['apply', '-f', '-'], { stdin: cm })).stdout).toBe('configmap/hooked created\n')
    // An existing object: kubectl PATCHes it; ClusterIP routing refuses the connection instead.
    c3.sim.setFault({
      kind: 'webhook',
      count: 1,
      cause: 'refused',
      webhook: 'w.example.com',
      service: 'hook',
      namespace: 'default',
      path: '/v'
    })
    const patched = await kubectl(c3, ['apply', '-f', '-'], { stdin: cm.replace('"1"', '"2"') })
    expect(patched.stderr).toMatch(
      /^Error from server \(InternalError\): error when applying patch:\n[\s\S]*for: "STDIN": error when patching "STDIN": Internal error occurred: failed calling webhook "w\.example\.com": failed to call webhook: Post "https:\/\/hook\.default\.svc:443\/v\?timeout=10s": dial tcp 10\.96\.0\.10:443: connect: connection refused\n$/
    )
    expect(webhookFaultBody({ webhook: 'validation.istio.io', cause: 'deadline' })).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'Internal error occurred: failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": context deadline exceeded',
      reason: 'InternalError',
      details: {
        causes: [
          {
            message:
              'failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": context deadline exceeded'
          }
        ]
      },
      code: 500
    })
  })

  it('serves the simulated istioctl its behaviour, consuming istioctl faults (recorded as sim requests)', async () => {
    c3.sim.setFault({ kind: 'istioctl', op: 'install', times: 1, message: 'boom' })
    const ask = async () => JSON.parse(await raw(c3.sim, '/sim/v1/behaviour?op=install'))
    expect(await ask()).toEqual({ delayMs: 250, fail: 'boom' })
    expect(await ask()).toEqual({ delayMs: 250, fail: null })
    expect(c3.sim.requests.at(-1)).toMatchObject({ method: 'GET', path: '/sim/v1/behaviour', sim: true })
  })
})

describe('read-only use', () => {
  it('leaves the store unchanged after gets, watches and waits', async () => {
    const snapshot = c1.sim.store.snapshot()
    await kubectl(c1, ['get', 'all', '-A'])
    await kubectl(c1, ['get', 'ns', 'istio-system', '-o', 'yaml'])
    await kubectl(c1, ['get', 'secrets', '-n', 'istio-system', '-l', 'istio/multiCluster=true'])
    await kubectl(c1, ['wait', '--for=condition=Available', 'deployment/istiod', '-n', 'istio-system', '--timeout=5s'])
    await kubectl(c1, ['get', 'svc', '-n', 'istio-system', '-w', '--request-timeout=1s'])
    expect(c1.sim.store.snapshot()).toBe(snapshot)
  })

  it('never records the admin token in what tests can see', () => {
    for (const t of [c1, c2, c3]) expect(JSON.stringify(t.sim.requests)).not.toContain(CANARY)
  })
})

describe('patch semantics (as kubectl sends them)', () => {
  const pod = {
    metadata: { finalizers: ['a', 'b'], labels: { x: '1', y: '2' } },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'app:1',
          env: [
            { name: 'A', value: '1' },
            { name: 'B', value: '2' }
          ],
          ports: [{ containerPort: 80 }]
        },
        { name: 'proxy', image: 'proxy:1' }
      ]
    }
  }

  it('strategic merge: lists merge by key, directives are honoured and never stored', () => {
    const out = strategicMergePatch(pod, {
      metadata: { labels: { y: null, z: '3' }, '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: {
        '$setElementOrder/containers': [{ name: 'proxy' }, { name: 'app' }],
        containers: [
          {
            name: 'app',
            image: 'app:2',
            env: [
              { name: 'B', $patch: 'delete' },
              { name: 'C', value: '3' }
            ],
            ports: [{ containerPort: 8080 }]
          }
        ]
      }
    })
    expect(out.metadata).toEqual({ finalizers: ['b'], labels: { x: '1', z: '3' } })
    expect(out.spec.containers.map((c: { name: string }) => c.name)).toEqual(['proxy', 'app'])
    expect(out.spec.containers[1]).toEqual({
      name: 'app',
      image: 'app:2',
      env: [
        { name: 'A', value: '1' },
        { name: 'C', value: '3' }
      ],
      ports: [{ containerPort: 80 }, { containerPort: 8080 }]
    })
    expect(
      strategicMergePatch(pod, { metadata: { labels: { $patch: 'replace', only: 'me' } } }).metadata.labels
    ).toEqual({ only: 'me' })
  })

  it('merge patch replaces lists and deletes on null; JSON patch follows RFC 6902', () => {
    expect(mergePatch(pod, { metadata: { finalizers: ['c'], labels: { x: null } } }).metadata).toEqual({
      finalizers: ['c'],
      labels: { y: '2' }
    })
    const out = jsonPatch(pod, [
      { op: 'add', path: '/metadata/labels/topology.istio.io~1network', value: 'n1' },
      { op: 'remove', path: '/metadata/finalizers/0' },
      { op: 'replace', path: '/spec/containers/1/image', value: 'proxy:2' }
    ])
    expect(out.metadata).toEqual({ finalizers: ['b'], labels: { x: '1', y: '2', 'topology.istio.io/network': 'n1' } })
    expect(out.spec.containers[1].image).toBe('proxy:2')
    expect(() => jsonPatch(pod, [{ op: 'test', path: '/metadata/labels/x', value: '2' }])).toThrow('testing value')
  })
})
