// `kubectl exec` against the simulated API server (WebSocket remote command, driven by the real kubectl)
// and the cross-cluster traffic model behind an exec'd curl (test/sim/apiserver/traffic.js).
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals'
import { runCommand } from '../../harness/spawn.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApiServer, createMesh, type SimCluster, type KubeObject } from '../apiserver/index.js'
import { acceptKey, encodeFrame, FrameParser } from '../apiserver/websocket.js'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

let dir: string
let c1: SimCluster
let c2: SimCluster

const ISTIO = 'istio-system'
const NS = 'sample' // helloworld v1 in cluster1, v2 in cluster2, curl in both; injected
const PLAIN = 'plain' // cluster1 only, not injected
const ROOT = 'a'.repeat(64)

/** Runs kubectl asynchronously (the servers live in this process: spawnSync would deadlock). */
function kubectl(sim: SimCluster, args: string[]): Promise<Run> {
  return runCommand('kubectl', args, {
    env: {
      ...process.env,
      KUBECONFIG: join(dir, `${sim.name}.kubeconfig`),
      KUBECACHEDIR: join(dir, `${sim.name}-cache`),
      HOME: dir
    }
  })
}

const curl = (sim: SimCluster, ns: string, url: string) =>
  kubectl(sim, ['exec', '-n', ns, 'deploy/curl', '-c', 'curl', '--', 'curl', '-sS', '--max-time', '5', url])

/** The helloworld versions that answered `n` calls in a row from `sim` (every call must exit 0). */
async function versionsSeen(sim: SimCluster, n = 3, ns = NS): Promise<string[]> {
  const seen = new Set<string>()
  for (let i = 0; i < n; i++) {
    const r = await curl(sim, ns, `http://helloworld.${ns}:5000/hello`)
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    const v = /^Hello version: (v\d), instance: helloworld-\1-[a-z0-9]+-[a-z0-9]+\n$/.exec(r.stdout)?.[1]
    seen.add(v ?? `unexpected: ${r.stdout}`)
  }
  return [...seen].sort()
}

/** Both clusters' views at once (each cluster's rotation is its own). */
const bothViews = () => Promise.all([versionsSeen(c1), versionsSeen(c2)])

function deployment(ns: string, name: string, labels: Record<string, string>, container: KubeObject): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [container] } }
    }
  }
}

const helloworld = (ns: string, version: string) =>
  deployment(
    ns,
    `helloworld-${version}`,
    { app: 'helloworld', version },
    {
      name: 'helloworld',
      image: `docker.io/istio/examples-helloworld-${version}:1.0`,
      ports: [{ containerPort: 5000 }]
    }
  )
const curlDeployment = (ns: string) =>
  deployment(
    ns,
    'curl',
    { app: 'curl' },
    { name: 'curl', image: 'curlimages/curl:8.16.0', command: ['/bin/sleep', 'infinity'] }
  )
const helloworldService = (ns: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'helloworld', namespace: ns, labels: { app: 'helloworld', service: 'helloworld' } },
  spec: { type: 'ClusterIP', ports: [{ port: 5000, name: 'http' }], selector: { app: 'helloworld' } }
})
const namespace = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels }
})

/** What `istioctl install` + the action's manifests leave in a cluster, written straight into the store. */
function installIstio(sim: SimCluster, network: string) {
  const s = sim.store
  s.put(namespace(ISTIO, { 'topology.istio.io/network': network }))
  s.put({
    ...deployment(
      ISTIO,
      'istiod',
      { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' },
      {
        name: 'discovery',
        image: 'docker.io/istio/pilot:1.30.3',
        env: [{ name: 'CLUSTER_ID', value: sim.name }]
      }
    ),
    metadata: {
      name: 'istiod',
      namespace: ISTIO,
      labels: { app: 'istiod', istio: 'pilot', 'istio.io/rev': 'default' },
      annotations: { 'sim.istio.io/root-cert-sha256': ROOT }
    }
  })
  s.put({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'istio-eastwestgateway',
      namespace: ISTIO,
      labels: { istio: 'eastwestgateway', 'topology.istio.io/network': network }
    },
    spec: {
      type: 'LoadBalancer',
      selector: { istio: 'eastwestgateway' },
      ports: [
        { name: 'status-port', port: 15021 },
        { name: 'tls', port: 15443 }
      ]
    }
  })
  s.put(crossNetworkGateway())
}

function crossNetworkGateway(): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: 'cross-network-gateway', namespace: ISTIO },
    spec: {
      selector: { istio: 'eastwestgateway' },
      servers: [
        { port: { number: 15443, name: 'tls', protocol: 'TLS' }, tls: { mode: 'AUTO_PASSTHROUGH' }, hosts: ['*.local'] }
      ]
    }
  }
}

/** `istioctl create-remote-secret` for `of`, applied in `into`: a reader token valid on `of`, at `server`. */
function remoteSecret(into: SimCluster, of: SimCluster, server = of.reachableUrl) {
  const token = of.issueToken(ISTIO, 'istio-reader-service-account')
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${of.name}`,
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${Buffer.from(of.caPem).toString('base64')}`,
    'contexts:',
    `- name: ${of.name}`,
    '  context:',
    `    cluster: ${of.name}`,
    `    user: ${of.name}`,
    `current-context: ${of.name}`,
    'users:',
    `- name: ${of.name}`,
    '  user:',
    `    token: ${token}`,
    ''
  ].join('\n')
  into.store.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `istio-remote-secret-${of.name}`,
      namespace: ISTIO,
      labels: { 'istio/multiCluster': 'true' },
      annotations: { 'networking.istio.io/cluster': of.name }
    },
    type: 'Opaque',
    data: { [of.name]: Buffer.from(kubeconfig).toString('base64') }
  })
}

function patch(
  sim: SimCluster,
  apiVersion: string,
  kind: string,
  ns: string | undefined,
  name: string,
  change: (o: KubeObject) => void
): () => void {
  const before = sim.store.get(apiVersion, kind, ns, name)
  const after = structuredClone(before)
  change(after)
  sim.store.put(after)
  return () => {
    const { resourceVersion: _rv, ...meta } = before.metadata
    sim.store.put({ ...before, metadata: meta })
  }
}

async function until(cond: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-exec-test-'))
  const mesh = createMesh()
  ;[c1, c2] = await Promise.all([
    startApiServer({ name: 'cluster1', index: 1, adminToken: 'admin-cluster1', mesh }),
    startApiServer({ name: 'cluster2', index: 2, adminToken: 'admin-cluster2', mesh })
  ])
  for (const [sim, network, version] of [
    [c1, 'network1', 'v1'],
    [c2, 'network2', 'v2']
  ] as const) {
    writeFileSync(join(dir, `${sim.name}.kubeconfig`), sim.kubeconfig(), { mode: 0o600 })
    installIstio(sim, network)
    sim.store.put(namespace(NS, { 'istio-injection': 'enabled' }))
    sim.store.put(helloworldService(NS))
    sim.store.put(helloworld(NS, version))
    sim.store.put(curlDeployment(NS))
  }
  remoteSecret(c1, c2)
  remoteSecret(c2, c1)
  // cluster1 also has an uninjected namespace with a local helloworld only.
  c1.store.put(namespace(PLAIN, {}))
  c1.store.put(helloworldService(PLAIN))
  c1.store.put(helloworld(PLAIN, 'v1'))
  c1.store.put(curlDeployment(PLAIN))
  await until(() =>
    [c1, c2].every(
      (c) => c.store.get('v1', 'Service', ISTIO, 'istio-eastwestgateway')?.status?.loadBalancer?.ingress?.length
    )
  )
})

afterAll(async () => {
  await Promise.all([c1, c2].filter(Boolean).map((c) => c.close()))
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('WebSocket helpers', () => {
  it('computes the RFC 6455 accept key and round-trips a masked client frame', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
    const payload = Buffer.from([0, ...Buffer.from('stdin')])
    const mask = Buffer.from([1, 2, 3, 4])
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]))
    const frame = Buffer.concat([Buffer.from([0x82, 0x80 | payload.length]), mask, masked])
    const parser = new FrameParser()
    // Split across two chunks, as TCP may deliver it.
    expect(parser.push(frame.subarray(0, 3))).toEqual([])
    expect(parser.push(frame.subarray(3))).toEqual([{ fin: true, opcode: 2, payload }])
    expect(() => new FrameParser().push(encodeFrame(2, payload))).toThrow('client frame not masked')
    expect([...encodeFrame(8, Buffer.from([3, 232]))]).toEqual([0x88, 2, 3, 232])
  })
})

describe('kubectl exec', () => {
  it('runs the command over a v5 WebSocket: stdout, exit code 0, request recorded', async () => {
    const before = c1.requests.length
    const r = await curl(c1, PLAIN, `http://helloworld.${PLAIN}:5000/hello`)
    expect(r).toEqual({
      code: 0,
      stdout: expect.stringMatching(/^Hello version: v1, instance: helloworld-v1-\w+-\w+\n$/),
      stderr: ''
    })
    const exec = c1.requests.slice(before).filter((q) => q.path.endsWith('/exec'))
    expect(exec).toHaveLength(1)
    expect(exec[0].method).toBe('GET')
    expect(exec[0].path).toMatch(new RegExp(`^/api/v1/namespaces/${PLAIN}/pods/curl-\\w+-\\w+/exec$`))
    expect(exec[0].url).toContain('command=curl&command=-sS&command=--max-time&command=5&')
    expect(exec[0].url).toContain('container=curl&stderr=true&stdout=true')
    // The short name resolves through the pod's search path; other paths get the app's 404.
    const short = await kubectl(c1, [
      'exec',
      '-n',
      PLAIN,
      'deploy/curl',
      '--',
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'helloworld:5000/nope'
    ])
    expect(short).toEqual({ code: 0, stdout: '404', stderr: '' })
  })

  it('refuses a container the pod does not have with the real 400 (after the SPDY fallback)', async () => {
    const before = c1.requests.length
    const r = await kubectl(c1, [
      'exec',
      '-n',
      PLAIN,
      'deploy/curl',
      '-c',
      'nope',
      '--',
      'curl',
      'http://helloworld:5000/hello'
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^Error from server \(BadRequest\): container nope is not valid for pod curl-\w+-\w+\n$/)
    // WebSocket first (GET), then kubectl falls back to SPDY (POST) and gets the same answer.
    expect(
      c1.requests
        .slice(before)
        .filter((q) => q.path.endsWith('/exec'))
        .map((q) => q.method)
    ).toEqual(['GET', 'POST'])
  })

  it("propagates the command's exit code and prints the runtime's error for a missing executable", async () => {
    let r = await curl(c1, PLAIN, `http://nothere.${PLAIN}:5000/hello`)
    expect(r).toEqual({
      code: 6,
      stdout: '',
      stderr: `curl: (6) Could not resolve host: nothere.${PLAIN}\ncommand terminated with exit code 6\n`
    })
    r = await curl(c1, PLAIN, `http://helloworld.${PLAIN}:5001/hello`)
    expect(r.code).toBe(7)
    expect(r.stderr).toContain(
      `curl: (7) Failed to connect to helloworld.${PLAIN} port 5001 after 0 ms: Could not connect to server`
    )
    r = await kubectl(c1, ['exec', '-n', PLAIN, 'deploy/curl', '--', 'wget', '-qO-', 'http://helloworld:5000/hello'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(
      /^error: Internal error occurred: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "[0-9a-f]{64}": OCI runtime exec failed: .*exec: "wget": executable file not found in \$PATH: unknown\n$/
    )
  })

  it('fails like the kubelet when the container is not running yet', async () => {
    c1.store.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'starting', namespace: PLAIN },
      spec: { nodeName: 'cluster1-control-plane', containers: [{ name: 'curl', image: 'curlimages/curl:8.16.0' }] },
      status: {
        phase: 'Pending',
        containerStatuses: [{ name: 'curl', ready: false, state: { waiting: { reason: 'ContainerCreating' } } }]
      }
    })
    const r = await kubectl(c1, ['exec', '-n', PLAIN, 'starting', '--', 'curl', 'http://helloworld:5000/hello'])
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: Internal error occurred: unable to upgrade connection: container not found ("curl")\n'
    })
  })

  it('checks the bearer token on the upgrade request and records it', async () => {
    const pod = c1.store.list('v1', 'Pod', PLAIN).find((p: KubeObject) => p.metadata.name.startsWith('curl-'))
    const path = `/api/v1/namespaces/${PLAIN}/pods/${pod.metadata.name}/exec?command=curl&container=curl&stdout=true`
    const before = c1.requests.length
    const status = await new Promise<{ code?: number; body: string }>((resolve, reject) => {
      const req = request(`${c1.url}${path}`, {
        ca: c1.caPem,
        headers: {
          authorization: 'Bearer wrong',
          connection: 'Upgrade',
          upgrade: 'websocket',
          'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
          'sec-websocket-version': '13',
          'sec-websocket-protocol': 'v5.channel.k8s.io'
        }
      })
      req.on('response', (res) => {
        let body = ''
        res.on('data', (d) => (body += d))
        res.on('end', () => resolve({ code: res.statusCode, body }))
      })
      req.on('upgrade', (_res, socket) => {
        socket.destroy()
        reject(new Error('upgraded without a valid token'))
      })
      req.on('error', reject)
      req.end()
    })
    expect(status.code).toBe(401)
    expect(JSON.parse(status.body)).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      code: 401
    })
    expect(c1.requests.slice(before).map((q) => `${q.method} ${q.url}`)).toEqual([`GET ${path}`])
  })
})

describe('cross-cluster traffic model', () => {
  it('reaches both versions from each cluster when the mesh is complete', async () => {
    expect(await bothViews()).toEqual([
      ['v1', 'v2'],
      ['v1', 'v2']
    ])
  })

  it('keeps traffic local when the two istiods trust different roots', async () => {
    const restore = patch(
      c2,
      'apps/v1',
      'Deployment',
      ISTIO,
      'istiod',
      (d) => (d.metadata.annotations['sim.istio.io/root-cert-sha256'] = 'b'.repeat(64))
    )
    try {
      expect(await bothViews()).toEqual([['v1'], ['v2']])
    } finally {
      restore()
    }
    // A self-signed root on both sides is no shared root either.
    const restores = [c1, c2].map((c) =>
      patch(
        c,
        'apps/v1',
        'Deployment',
        ISTIO,
        'istiod',
        (d) => (d.metadata.annotations['sim.istio.io/root-cert-sha256'] = 'self-signed')
      )
    )
    try {
      expect(await bothViews()).toEqual([['v1'], ['v2']])
    } finally {
      for (const r of restores) r()
    }
  })

  it("loses the remote cluster's endpoints when the remote secret names 127.0.0.1", async () => {
    remoteSecret(c1, c2, c2.url)
    try {
      // Only cluster1 lost sight of cluster2; cluster2 still reaches cluster1.
      expect(await bothViews()).toEqual([['v1'], ['v1', 'v2']])
    } finally {
      remoteSecret(c1, c2)
    }
  })

  it('needs cross-network-gateway in the remote cluster, unless both are on one network', async () => {
    c2.store.delete('networking.istio.io/v1', 'Gateway', ISTIO, 'cross-network-gateway')
    try {
      expect(await bothViews()).toEqual([['v1'], ['v1', 'v2']])
      const restore = patch(
        c2,
        'v1',
        'Namespace',
        undefined,
        ISTIO,
        (n) => (n.metadata.labels['topology.istio.io/network'] = 'network1')
      )
      try {
        // One network: pod IPs are reachable directly, no gateway needed.
        expect(await bothViews()).toEqual([
          ['v1', 'v2'],
          ['v1', 'v2']
        ])
      } finally {
        restore()
      }
    } finally {
      c2.store.put(crossNetworkGateway())
    }
  })

  it('needs sidecars: a namespace not injected in one cluster keeps both sides local', async () => {
    const restore = patch(c2, 'v1', 'Namespace', undefined, NS, (n) => delete n.metadata.labels['istio-injection'])
    try {
      // cluster1 cannot reach v2 (no sidecar there); cluster2's curl has no sidecar, so kube-proxy stays local.
      expect(await bothViews()).toEqual([['v1'], ['v2']])
    } finally {
      restore()
    }
    expect(await bothViews()).toEqual([
      ['v1', 'v2'],
      ['v1', 'v2']
    ])
  })

  it("answers with Envoy's 503 when no endpoint is reachable", async () => {
    const restore = patch(
      c2,
      'apps/v1',
      'Deployment',
      ISTIO,
      'istiod',
      (d) => (d.metadata.annotations['sim.istio.io/root-cert-sha256'] = 'b'.repeat(64))
    )
    const v1 = c1.store.get('apps/v1', 'Deployment', NS, 'helloworld-v1')
    c1.store.delete('apps/v1', 'Deployment', NS, 'helloworld-v1')
    try {
      let r = await curl(c1, NS, `http://helloworld.${NS}:5000/hello`)
      expect(r).toEqual({
        code: 0,
        stdout:
          'upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end',
        stderr: ''
      })
      remoteSecret(c1, c2, c2.url)
      r = await curl(c1, NS, `http://helloworld.${NS}:5000/hello`)
      expect(r).toEqual({ code: 0, stdout: 'no healthy upstream', stderr: '' })
    } finally {
      remoteSecret(c1, c2)
      restore()
      const { resourceVersion: _rv, uid: _uid, ...meta } = v1.metadata
      c1.store.put({ ...v1, metadata: meta, status: undefined })
    }
    expect(await versionsSeen(c1, 2)).toEqual(['v1', 'v2'])
  })
})
