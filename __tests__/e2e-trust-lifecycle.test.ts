// The root of trust over time, end to end on simulated clusters with the bundled action: intermediates that expire,
// a cacerts created or replaced under a running istiod, and the bound on istiod's restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash, X509Certificate } from 'node:crypto'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { runCommand } from '../test/harness/spawn.js'
import { opensslRootCa } from '../__fixtures__/openssl-ca.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Cluster = Sim['clusters'][number]
interface Pem {
  cert: string
  key: string
}
const run$ = promisify(execFile)
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8')
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const DAY = 86_400_000
const ROOT_ANNOTATION = 'sim.istio.io/root-cert-sha256'
const CA_ANNOTATION = 'sim.istio.io/ca-cert-sha256'
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trust-lifecycle-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function cacerts(c: Cluster): Record<string, string> | undefined {
  const s = c.store.get('v1', 'Secret', 'istio-system', 'cacerts')
  return s && Object.fromEntries(Object.entries(s.data as Record<string, string>).map(([k, v]) => [k, b64(v)]))
}

function putCacerts(c: Cluster, data: Record<string, string>): void {
  if (!c.store.get('v1', 'Namespace', undefined, 'istio-system'))
    c.store.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } })
  c.store.put({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'cacerts', namespace: 'istio-system' },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
  })
}

const istiod = (c: Cluster) => c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')
const notAfter = (pem: string) => new Date(new X509Certificate(pem).validTo)
const day = (d: Date) => d.toISOString().slice(0, 10)
/** openssl's YYMMDDHHMMSSZ (UTCTime). */
const asn1Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'

const opensslRoot = (name: string, days = 365): Promise<Pem> =>
  opensslRootCa({ dir: fs.mkdtempSync(path.join(tmp, 'root-')), name, days })

/**
 * An intermediate CA for `cluster` signed by `root`, valid from `from` to `until` — which may both lie in the past.
 * `openssl x509 -days` cannot date a certificate back and OpenSSL 3.0 has no `-not_after`, so this is `openssl ca`
 * with `-startdate`/`-enddate`.
 */
async function opensslIntermediate(root: Pem, cluster: string, from: Date, until: Date): Promise<Pem> {
  const dir = fs.mkdtempSync(path.join(tmp, 'int-'))
  fs.writeFileSync(`${dir}/root.pem`, root.cert)
  fs.writeFileSync(`${dir}/root.key`, root.key, { mode: 0o600 })
  fs.writeFileSync(`${dir}/index.txt`, '')
  fs.writeFileSync(`${dir}/serial`, '1000\n')
  fs.writeFileSync(
    `${dir}/ca.cnf`,
    [
      '[ ca ]',
      'default_ca = local',
      '[ local ]',
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`,
      'policy = any',
      'unique_subject = no',
      'preserve = yes',
      '[ any ]',
      'organizationName = optional',
      'commonName = supplied',
      'localityName = optional',
      '[ intermediate ]',
      'basicConstraints = critical, CA:true, pathlen:0',
      'keyUsage = critical, digitalSignature, keyCertSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      'subjectAltName = DNS:istiod.istio-system.svc',
      ''
    ].join('\n')
  )
  await run$('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${dir}/key.pem`,
    '-out',
    `${dir}/csr.pem`,
    '-subj',
    `/O=Istio/CN=Intermediate CA/L=${cluster}`
  ])
  await run$('openssl', [
    'ca',
    '-batch',
    '-config',
    `${dir}/ca.cnf`,
    '-notext',
    '-md',
    'sha256',
    '-cert',
    `${dir}/root.pem`,
    '-keyfile',
    `${dir}/root.key`,
    '-in',
    `${dir}/csr.pem`,
    '-out',
    `${dir}/cert.pem`,
    '-extensions',
    'intermediate',
    '-startdate',
    asn1Time(from),
    '-enddate',
    asn1Time(until)
  ])
  const cert = fs.readFileSync(`${dir}/cert.pem`, 'utf8')
  expect(notAfter(cert).getTime()).toBe(Math.floor(until.getTime() / 1000) * 1000)
  return { cert, key: fs.readFileSync(`${dir}/key.pem`, 'utf8') }
}

const cacertsOf = (root: string, intermediate: Pem) => ({
  'ca-cert.pem': intermediate.cert,
  'ca-key.pem': intermediate.key,
  'root-cert.pem': root,
  'cert-chain.pem': intermediate.cert + root
})

function storedRoot(c: Cluster): Pem {
  const s = c.store.get('v1', 'Secret', 'istio-system', 'istio-multicluster-root-ca')
  return { cert: b64(s.data['root-cert.pem']), key: b64(s.data['root-key.pem']) }
}

/** The real kubectl against one simulated cluster, as a user would run it. */
function kubectl(c: Cluster, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(tmp, 'kubectl-'))
  fs.writeFileSync(`${dir}/kubeconfig`, c.kubeconfig(c.name), { mode: 0o600 })
  return runCommand('kubectl', args, {
    env: { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: `${dir}/kubeconfig`, KUBECACHEDIR: `${dir}/cache` }
  })
}

const istiodPods = (c: Cluster) =>
  c.store.list('v1', 'Pod', 'istio-system').filter((p: any) => p.metadata.labels?.app === 'istiod')

/** Requests that changed something (not the simulator's own) since `from`. */
const writesSince = (c: Cluster, from: number) =>
  c.requests.slice(from).filter((q: any) => q.method !== 'GET' && !q.sim)

describe('ca: generate — intermediates that expire', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let inputs: Record<string, string>

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    inputs = {
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      verify: 'none',
      ...sim.inputs
    }
    const first = await runAction({ inputs, env: sim.env, runner })
    if (first.exitCode !== 0) console.log(first.stdout)
    expect(first.exitCode).toBe(0)
  }, 120_000)
  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('shows each intermediate’s expiry in the summary', async () => {
    const r = await runAction({ inputs, env: sim.env, runner })
    expect(r.exitCode).toBe(0)
    for (const c of sim.clusters)
      expect(r.summary).toContain(`${c.name}: intermediate CA valid until ${day(notAfter(cacerts(c)!['ca-cert.pem']))}`)
    expect(r.stdout).not.toMatch(/rollout restart/)
  }, 60_000)

  it('re-issues an intermediate that expires in 10 days, restarts istiod, and the summary shows the new expiry', async () => {
    const c1 = sim.cluster('cluster1')
    const root = storedRoot(c1)
    const now = Date.now()
    const expiring = await opensslIntermediate(root, 'cluster1', new Date(now - 700 * DAY), new Date(now + 10 * DAY))
    putCacerts(c1, cacertsOf(root.cert, expiring))
    // Same root: the running istiod hot-reloads it (istio_ca.go handleEvent), so it now signs with the expiring CA.
    expect(istiod(c1).metadata.annotations[CA_ANNOTATION]).toBe(sha256(expiring.cert))
    const c2Before = cacerts(sim.cluster('cluster2'))

    const r = await runAction({ inputs, env: sim.env, runner })
    if (r.exitCode !== 0) console.log(r.stdout)
    expect(r.exitCode).toBe(0)
    const data = cacerts(c1)!
    expect(data['ca-cert.pem']).not.toBe(expiring.cert)
    expect(data['root-cert.pem'].trim()).toBe(root.cert.trim())
    expect(new X509Certificate(data['ca-cert.pem']).verify(new X509Certificate(root.cert).publicKey)).toBe(true)
    const until = notAfter(data['ca-cert.pem'])
    expect(until.getTime()).toBeGreaterThan(now + 300 * DAY)
    expect(r.stdout).toMatch(
      new RegExp(`cluster1: cacerts' intermediate CA expires on ${day(new Date(now + 10 * DAY))}.*re-issued`)
    )
    expect(r.stdout).toMatch(/kubectl --context cluster1 rollout restart deployment\.apps\/istiod -n istio-system/)
    expect(r.stdout).toMatch(
      /kubectl --context cluster1 rollout status deployment\.apps\/istiod -n istio-system --timeout=\d+s/
    )
    // New pods read the new cacerts: istiod signs with the new intermediate under the same root.
    expect(istiod(c1).spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeTruthy()
    expect(istiod(c1).metadata.annotations[CA_ANNOTATION]).toBe(sha256(data['ca-cert.pem']))
    expect(istiod(c1).metadata.annotations[ROOT_ANNOTATION]).toBe(sha256(data['root-cert.pem']))
    expect(r.summary).toContain(`cluster1: intermediate CA valid until ${day(until)} (re-issued)`)
    // cluster2's intermediate is fine: kept, istiod left alone.
    expect(cacerts(sim.cluster('cluster2'))).toEqual(c2Before)
    expect(r.stdout).not.toMatch(/--context cluster2 rollout restart/)
  }, 120_000)

  it('the simulated istiod, started with cacerts, takes a new intermediate of its root but never another root', async () => {
    const c2 = sim.cluster('cluster2')
    const before = cacerts(c2)!
    const loaded = { ...istiod(c2).metadata.annotations }
    const foreign = await opensslRoot('foreign-root')
    const now = Date.now()
    putCacerts(
      c2,
      cacertsOf(
        foreign.cert,
        await opensslIntermediate(foreign, 'cluster2', new Date(now - DAY), new Date(now + 100 * DAY))
      )
    )
    expect(istiod(c2).metadata.annotations[ROOT_ANNOTATION]).toBe(loaded[ROOT_ANNOTATION])
    expect(istiod(c2).metadata.annotations[CA_ANNOTATION]).toBe(loaded[CA_ANNOTATION])
    putCacerts(c2, before)
  })

  it('re-issues an expired intermediate under an istiod that crash-loops on it', async () => {
    const c2 = sim.cluster('cluster2')
    const root = storedRoot(c2)
    const now = Date.now()
    const expired = await opensslIntermediate(root, 'cluster2', new Date(now - 40 * DAY), new Date(now - DAY))
    const runningCa = istiod(c2).metadata.annotations[CA_ANNOTATION]
    putCacerts(c2, cacertsOf(root.cert, expired))
    // Reloading verifies the bundle first (keycertbundle.go Verify): the running istiod keeps its valid intermediate.
    expect(istiod(c2).metadata.annotations[CA_ANNOTATION]).toBe(runningCa)
    // At its next start it refuses the expired one and exits: the pod crash-loops and the rollout never completes.
    expect((await kubectl(c2, ['rollout', 'restart', 'deployment/istiod', '-n', 'istio-system'])).code).toBe(0)
    const [crashed] = istiodPods(c2)
    const discovery = crashed.status.containerStatuses.find((x: any) => x.name === 'discovery')
    expect(discovery.state.waiting.reason).toBe('CrashLoopBackOff')
    expect(discovery.lastState.terminated).toMatchObject({ exitCode: 255, reason: 'Error' })
    expect(discovery.lastState.terminated.message).toMatch(
      /^Error: failed to create discovery service: failed to create CA: failed to create an istiod CA: failed to create CA KeyCertBundle \(cannot verify the cert with the provided root chain and cert pool with error: x509: certificate has expired or is not yet valid: current time \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ is after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/
    )
    const status = await kubectl(c2, ['rollout', 'status', 'deployment/istiod', '-n', 'istio-system', '--timeout=2s'])
    expect(status.code).not.toBe(0)
    expect(status.stdout).toContain(
      'Waiting for deployment "istiod" rollout to finish: 0 of 1 updated replicas are available...'
    )

    const r = await runAction({ inputs, env: sim.env, runner })
    if (r.exitCode !== 0) console.log(r.stdout)
    expect(r.exitCode).toBe(0)
    const data = cacerts(c2)!
    expect(data['ca-cert.pem']).not.toBe(expired.cert)
    expect(notAfter(data['ca-cert.pem']).getTime()).toBeGreaterThan(now + 300 * DAY)
    expect(r.stdout).toMatch(
      new RegExp(`cluster2: cacerts' intermediate CA expired on ${day(new Date(now - DAY))}.*re-issued`)
    )
    expect(r.stdout).toMatch(/kubectl --context cluster2 rollout restart deployment\.apps\/istiod -n istio-system/)
    expect(istiod(c2).metadata.annotations[CA_ANNOTATION]).toBe(sha256(data['ca-cert.pem']))
    expect(istiodPods(c2).map((p: any) => p.status.conditions.find((x: any) => x.type === 'Ready').status)).toEqual([
      'True'
    ])
  }, 120_000)
})

describe('ca: existing — an expiring cacerts', () => {
  it('fails before any write, naming the cluster and the date', async () => {
    const sim = await startSimulation()
    const runner = makeRunner()
    try {
      const root = await opensslRoot('corp-root', 3650)
      const now = Date.now()
      putCacerts(
        sim.cluster('cluster1'),
        cacertsOf(
          root.cert,
          await opensslIntermediate(root, 'cluster1', new Date(now - DAY), new Date(now + 400 * DAY))
        )
      )
      const until = new Date(now + 10 * DAY)
      putCacerts(
        sim.cluster('cluster2'),
        cacertsOf(root.cert, await opensslIntermediate(root, 'cluster2', new Date(now - 300 * DAY), until))
      )
      const before = sim.clusters.map((c) => c.requests.length)
      const r = await runAction({
        inputs: {
          clusters: sim.clustersInput(),
          kubeconfig: sim.kubeconfig(),
          'istio-version': '1.30.3',
          ca: 'existing',
          ...sim.inputs
        },
        env: sim.env,
        runner
      })
      expect(r.exitCode).not.toBe(0)
      expect(r.stdout).toMatch(
        new RegExp(
          `::error::cluster2: cacerts' intermediate CA expires on ${day(until)}T[^ ]* \\(in 10 days\\).*ca: existing`
        )
      )
      expect(sim.clusters.map((c, i) => writesSince(c, before[i]))).toEqual([[], []])
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 120_000)
})

describe('ca: provided — a root that expires soon', () => {
  it('warns with the date; intermediates capped at the root are kept, not re-issued on every run', async () => {
    const sim = await startSimulation()
    const runner = makeRunner()
    try {
      const root = await opensslRoot('short-root', 20)
      const until = notAfter(root.cert)
      const inputs = {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': '1.30.3',
        verify: 'none',
        ca: 'provided',
        'ca-root-cert': root.cert,
        'ca-root-key': root.key,
        ...sim.inputs
      }
      const first = await runAction({ inputs, env: sim.env, runner })
      expect(first.exitCode).toBe(0)
      const warning = new RegExp(
        `::warning::the mesh root of trust expires on ${day(until)}T[^ ]* \\(in 20 days\\): subject "O=Corp, CN=short-root"`
      )
      expect(first.stdout).toMatch(warning)
      for (const c of sim.clusters) expect(notAfter(cacerts(c)!['ca-cert.pem']).getTime()).toBe(until.getTime())
      const before = sim.clusters.map((c) => cacerts(c))

      const again = await runAction({ inputs, env: sim.env, runner })
      expect(again.exitCode).toBe(0)
      expect(again.stdout).toMatch(warning)
      expect(again.stdout).toContain('a new one cannot outlive the root, so it is kept')
      expect(sim.clusters.map((c) => cacerts(c))).toEqual(before)
      expect(again.stdout).not.toContain('rollout restart')
      expect(again.summary).toContain(`**Root of trust** (mesh root valid until ${day(until)})`)
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 180_000)
})

describe('ca: none, then ca: generate', () => {
  it('restarts the istiod that started self-signed, so it takes the mesh root; traffic crosses the clusters', async () => {
    const sim = await startSimulation()
    const runner = makeRunner()
    try {
      const base = {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': '1.30.3',
        ...sim.inputs
      }
      const none = await runAction({ inputs: { ...base, ca: 'none', verify: 'none' }, env: sim.env, runner })
      expect(none.exitCode).toBe(0)
      for (const c of sim.clusters) expect(istiod(c).metadata.annotations[ROOT_ANNOTATION]).toBe('self-signed')
      // An istiod that started self-signed does not watch cacerts (istio_ca.go: the watch is only set up plugged-in).
      const other = await opensslRoot('other-root')
      const c1 = sim.cluster('cluster1')
      putCacerts(
        c1,
        cacertsOf(
          other.cert,
          await opensslIntermediate(other, 'cluster1', new Date(Date.now() - DAY), new Date(Date.now() + 100 * DAY))
        )
      )
      expect(istiod(c1).metadata.annotations[ROOT_ANNOTATION]).toBe('self-signed')
      c1.store.delete('v1', 'Secret', 'istio-system', 'cacerts')

      const r = await runAction({
        inputs: { ...base, verify: 'traffic', 'verify-timeout': '40s' },
        env: sim.env,
        runner
      })
      if (r.exitCode !== 0) console.log(r.stdout)
      expect(r.exitCode).toBe(0)
      expect(r.outputs.verified).toBe('true')
      for (const c of sim.clusters) {
        const data = cacerts(c)!
        expect(istiod(c).metadata.annotations[ROOT_ANNOTATION]).toBe(sha256(data['root-cert.pem']))
        expect(r.stdout).toMatch(
          new RegExp(`kubectl --context ${c.name} rollout restart deployment\\.apps/istiod -n istio-system`)
        )
        expect(r.stdout).toContain(`${c.name}: restarted deployment.apps/istiod: cacerts was created`)
      }
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 180_000)
})

describe('the restart of istiod is bounded', () => {
  it('a rollout that never finishes fails the step with a timeout naming the cluster', async () => {
    const sim = await startSimulation()
    const runner = makeRunner()
    try {
      const base = {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': '1.30.3',
        verify: 'none',
        ...sim.inputs
      }
      expect((await runAction({ inputs: { ...base, ca: 'none' }, env: sim.env, runner })).exitCode).toBe(0)
      // Every watch in cluster1 hangs: `kubectl rollout status` never hears that the new pods are ready.
      sim.cluster('cluster1').setFault({ kind: 'hang', match: { method: 'GET', pathIncludes: 'watch=true' } })
      const started = Date.now()
      const r = await runAction({ inputs: base, env: { ...sim.env, ISTIO_MULTICLUSTER_ROLLOUT_TIMEOUT: '4s' }, runner })
      expect(r.exitCode).not.toBe(0)
      expect(Date.now() - started).toBeLessThan(90_000)
      expect(r.stdout).toMatch(
        /::error::cluster1 · root of trust \(cacerts, ca: generate\): deployment\.apps\/istiod did not finish restarting within 4 s \(kubectl --context cluster1 rollout status/
      )
      // cluster2 is unaffected.
      expect(r.stdout).toContain('cluster2: restarted deployment.apps/istiod: cacerts was created')
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 180_000)
})
