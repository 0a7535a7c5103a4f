// The simulated istioctl (as packaged in a release archive), the release site and the GitHub releases API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { runCommand } from '../../harness/spawn.js'
import { gunzipSync } from 'node:zlib'
import * as yaml from 'js-yaml'
import { packageIstioctl, startReleaseServer } from '../releases.js'
import { startApiServer, type SimCluster } from '../apiserver/index.js'
import { cacertsData, generateIntermediate, generateRoot } from '../../../src/trust/certs.js'

type Result = { code: number | null; stdout: string; stderr: string }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-istioctl-test-'))
const home = path.join(tmp, 'home')
fs.mkdirSync(home)

/** Extract a packaged archive into its own folder; returns the istioctl path. */
function extract(archivePath: string, into: string): string {
  fs.mkdirSync(into, { recursive: true })
  execFileSync('tar', ['xzf', archivePath, '-C', into])
  return path.join(into, 'istioctl')
}

/** Run a binary asynchronously: the simulated API servers live in this process. */
function runBin(
  bin: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {}
): Promise<Result> {
  return runCommand(bin, args, { env: { PATH: process.env.PATH ?? '', HOME: home, ...opts.env }, stdin: opts.input })
}

let istioctlBin: string // 1.30.3
let istioctlBin131: string // 1.31.2

beforeAll(async () => {
  const a = await packageIstioctl('1.30.3', { outDir: path.join(tmp, 'pkg') })
  istioctlBin = extract(a.archivePath, path.join(tmp, 'bin-1.30.3'))
  const b = await packageIstioctl('1.31.2', { outDir: path.join(tmp, 'pkg') })
  istioctlBin131 = extract(b.archivePath, path.join(tmp, 'bin-1.31.2'))
}, 60_000)

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

const istioctl = (args: string[], opts?: { input?: string; env?: Record<string, string> }) =>
  runBin(istioctlBin, args, opts)

describe('packageIstioctl', () => {
  it('builds a tar.gz holding exactly one executable `istioctl`, and a .sha256 in Istio format', async () => {
    const { archivePath, sha256Path, sha256 } = await packageIstioctl('1.29.4', { outDir: path.join(tmp, 'pkg2') })
    expect(path.basename(archivePath)).toBe('istioctl-1.29.4-linux-amd64.tar.gz')
    expect(sha256Path).toBe(`${archivePath}.sha256`)
    const listing = execFileSync('tar', ['tzvf', archivePath], { encoding: 'utf8' }).trim().split('\n')
    expect(listing).toHaveLength(1)
    expect(listing[0]).toMatch(/^-rwxr-xr-x .* istioctl$/)
    const archive = fs.readFileSync(archivePath)
    expect(sha256).toBe(createHash('sha256').update(archive).digest('hex'))
    expect(fs.readFileSync(sha256Path, 'utf8')).toBe(`${sha256} istioctl-1.29.4-linux-amd64.tar.gz\n`)
    // Rebuilding gives the same bytes (fixed mtime, cached bundle).
    const again = await packageIstioctl('1.29.4', { outDir: path.join(tmp, 'pkg3') })
    expect(again.sha256).toBe(sha256)
  })

  it('the packaged file runs with no package.json around it, and inside a "type": "module" package', async () => {
    expect((await istioctl(['version', '--remote=false'])).stdout).toBe('client version: 1.30.3\n')
    const modDir = path.join(tmp, 'esm-scope', 'bin')
    fs.mkdirSync(modDir, { recursive: true })
    fs.writeFileSync(path.join(tmp, 'esm-scope', 'package.json'), '{"type":"module"}')
    fs.copyFileSync(istioctlBin131, path.join(modDir, 'istioctl'))
    fs.chmodSync(path.join(modDir, 'istioctl'), 0o755)
    const r = await runBin(path.join(modDir, 'istioctl'), ['version', '--remote=false'])
    expect(r).toEqual({ code: 0, stdout: 'client version: 1.31.2\n', stderr: '' })
  })

  it('win-amd64 is a zip holding istioctl.exe', async () => {
    const { archivePath } = await packageIstioctl('1.30.3', {
      outDir: path.join(tmp, 'pkg-win'),
      platform: 'win-amd64'
    })
    expect(path.basename(archivePath)).toBe('istioctl-1.30.3-win-amd64.zip')
    const zip = fs.readFileSync(archivePath)
    expect(zip.readUInt32LE(0)).toBe(0x04034b50)
    expect(zip.subarray(30, 30 + 'istioctl.exe'.length).toString()).toBe('istioctl.exe')
  })
})

describe('release server', () => {
  let rel: Awaited<ReturnType<typeof startReleaseServer>>
  beforeAll(async () => {
    rel = await startReleaseServer({
      versions: ['1.29.4', '1.30.2', '1.30.3', { version: '1.31.1', published: false }, '1.29.5']
    })
  })
  afterAll(() => rel.close())

  const getJson = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers })
    return { res, body: (await res.json()) as any }
  }

  it('lists the releases in GitHub shape, with a draft and a prerelease mixed in', async () => {
    const { res, body } = await getJson(`${rel.apiUrl}/repos/istio/istio/releases?per_page=100`, {
      Authorization: 'Bearer gh-token-1'
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('link')).toBeNull()
    const tags = body.map((r: any) => r.tag_name)
    expect(tags.sort()).toEqual(['1.29.4', '1.29.5', '1.30.2', '1.30.3', '1.31.1', '1.32.0', '1.32.0-beta.1'])
    const byTag = Object.fromEntries(body.map((r: any) => [r.tag_name, r]))
    expect(byTag['1.32.0']).toMatchObject({ draft: true, prerelease: false, published_at: null })
    expect(byTag['1.32.0-beta.1']).toMatchObject({ draft: false, prerelease: true })
    expect(byTag['1.31.1'].assets).toEqual([])
    const asset = byTag['1.30.3'].assets.find((a: any) => a.name === 'istioctl-1.30.3-linux-amd64.tar.gz')
    expect(asset.browser_download_url).toBe(`${rel.downloadBaseUrl}/1.30.3/istioctl-1.30.3-linux-amd64.tar.gz`)
    expect(byTag['1.30.3'].assets.map((a: any) => a.name)).toContain('istioctl-1.30.3-linux-amd64.tar.gz.sha256')
    // Authorization headers are kept for assertions.
    expect(rel.requests.some((r: any) => r.authorization === 'Bearer gh-token-1')).toBe(true)
    // "latest" is the most recently published release, not the highest version.
    expect((await getJson(`${rel.apiUrl}/repos/istio/istio/releases/latest`)).body.tag_name).toBe('1.29.5')
  })

  it('paginates with a Link header', async () => {
    const seen: string[] = []
    let url: string | undefined = `${rel.apiUrl}/repos/istio/istio/releases?per_page=3`
    let pages = 0
    while (url) {
      const { res, body } = await getJson(url)
      pages++
      seen.push(...body.map((r: any) => r.tag_name))
      url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1]
    }
    expect(pages).toBe(3)
    expect(seen).toHaveLength(7)
    expect(new Set(seen).size).toBe(7)
  })

  it('serves archives through a redirect, counts their bytes, and 404s an unpublished version', async () => {
    const before = rel.bytesServed
    const res = await fetch(`${rel.downloadBaseUrl}/1.30.3/istioctl-1.30.3-linux-amd64.tar.gz`)
    expect(res.status).toBe(200)
    expect(res.redirected).toBe(true)
    const archive = Buffer.from(await res.arrayBuffer())
    expect(rel.bytesServed - before).toBe(archive.length)
    const sha = await (await fetch(`${rel.downloadBaseUrl}/1.30.3/istioctl-1.30.3-linux-amd64.tar.gz.sha256`)).text()
    expect(sha).toBe(`${createHash('sha256').update(archive).digest('hex')} istioctl-1.30.3-linux-amd64.tar.gz\n`)
    expect(rel.bytesServed - before).toBe(archive.length) // .sha256 is not an archive byte
    expect((await fetch(`${rel.downloadBaseUrl}/1.31.1/istioctl-1.31.1-linux-amd64.tar.gz`)).status).toBe(404)
    expect((await fetch(`${rel.downloadBaseUrl}/1.32.0/istioctl-1.32.0-linux-amd64.tar.gz`)).status).toBe(404) // the draft
  })

  it('faults: checksum mismatch, truncated archive, rate limit, transient 5xx', async () => {
    const url = `${rel.downloadBaseUrl}/1.29.4/istioctl-1.29.4-linux-amd64.tar.gz`
    const good = Buffer.from(await (await fetch(url)).arrayBuffer())
    const goodSha = createHash('sha256').update(good).digest('hex')

    rel.setFault({ kind: 'checksum-mismatch', version: '1.29.4' })
    expect((await (await fetch(`${url}.sha256`)).text()).split(' ')[0]).not.toBe(goodSha)
    rel.setFault(null)
    expect((await (await fetch(`${url}.sha256`)).text()).split(' ')[0]).toBe(goodSha)

    rel.setFault({ kind: 'truncate', version: '1.29.4' })
    const cut = Buffer.from(await (await fetch(url)).arrayBuffer())
    expect(cut.length).toBe(Math.floor(good.length / 2))
    expect(() => gunzipSync(cut)).toThrow()
    rel.setFault(null)
    rel.setFault({ kind: 'truncate', version: '1.29.4', abort: true })
    await expect(fetch(url).then((r) => r.arrayBuffer())).rejects.toThrow()
    rel.setFault(null)

    rel.setFault({ kind: 'rate-limit' })
    const limited = await fetch(`${rel.apiUrl}/repos/istio/istio/releases`)
    expect(limited.status).toBe(403)
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0')
    expect(((await limited.json()) as any).message).toMatch(/^API rate limit exceeded/)
    rel.setFault(null)

    rel.setFault({ kind: 'status', code: 502, count: 2, pathIncludes: '/releases' })
    expect((await fetch(`${rel.apiUrl}/repos/istio/istio/releases`)).status).toBe(502)
    expect((await fetch(`${rel.apiUrl}/repos/istio/istio/releases`)).status).toBe(502)
    expect((await fetch(`${rel.apiUrl}/repos/istio/istio/releases`)).status).toBe(200)
  })
})

describe('istioctl CLI surface (no cluster)', () => {
  it('version: client version, -o json, and a bad -o', async () => {
    const json = await istioctl(['version', '--remote=false', '-o', 'json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).clientVersion).toMatchObject({ version: '1.30.3', tag: '1.30.3', status: 'Clean' })
    const bad = await istioctl(['version', '--remote=false', '-o', 'short'])
    expect(bad).toMatchObject({ code: 1, stderr: "Error: --output must be 'yaml' or 'json'\n" })
  })

  it('unknown flag → exit 1; unknown command → exit 64 (also `x create-remote-secret` since 1.19)', async () => {
    expect(await istioctl(['install', '--bogus'])).toMatchObject({ code: 1, stderr: 'Error: unknown flag: --bogus\n' })
    expect(await istioctl(['install', '-q'])).toMatchObject({
      code: 1,
      stderr: "Error: unknown shorthand flag: 'q' in -q\n"
    })
    const x = await istioctl(['x', 'create-remote-secret', '--name', 'c1'])
    expect(x.code).toBe(64)
    expect(x.stderr).toBe(
      'Error: unknown command "create-remote-secret" for "istioctl experimental"\nRun \'istioctl experimental --help\' for usage.\n'
    )
    const typo = await istioctl(['instal'])
    expect(typo.code).toBe(64)
    expect(typo.stderr).toContain('Did you mean this?\n\tinstall\n')
  })

  it('a missing kubeconfig fails like client-go', async () => {
    const r = await istioctl(['install', '-y', '--kubeconfig', path.join(tmp, 'nope')])
    expect(r).toMatchObject({ code: 1, stderr: `Error: stat ${path.join(tmp, 'nope')}: no such file or directory\n` })
  })

  it('uninstall needs --purge, --revision or -f', async () => {
    const r = await istioctl(['uninstall', '-y'])
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(
      'Error: at least one of the --revision (or --set revision=<revision>), --filename or --purge flags must be set\n'
    )
  })
})

// --- against simulated clusters ---

// 1.30.x renders registry.istio.io/release by default, which no simulated node can pull from (December 2026).
const CONTROL_PLANE = (
  cluster: string,
  network: string,
  name = 'control-plane'
) => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
${name ? `metadata:\n  name: ${name}\n` : ''}spec:
  hub: docker.io/istio
  values:
    global:
      meshID: mesh1
      multiCluster:
        clusterName: ${cluster}
      network: ${network}
`

const EAST_WEST = (network: string) => `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: eastwest
spec:
  hub: docker.io/istio
  revision: ""
  profile: empty
  components:
    ingressGateways:
      - name: istio-eastwestgateway
        label:
          istio: eastwestgateway
          app: istio-eastwestgateway
          topology.istio.io/network: ${network}
        enabled: true
        k8s:
          serviceAnnotations:
            service.beta.kubernetes.io/aws-load-balancer-type: nlb
          env:
            - name: ISTIO_META_REQUESTED_NETWORK_VIEW
              value: ${network}
          service:
            ports:
              - {name: status-port, port: 15021, targetPort: 15021}
              - {name: tls, port: 15443, targetPort: 15443}
              - {name: tls-istiod, port: 15012, targetPort: 15012}
              - {name: tls-webhook, port: 15017, targetPort: 15017}
  values:
    gateways:
      istio-ingressgateway:
        injectionTemplate: gateway
    global:
      network: ${network}
`

describe('istioctl against simulated clusters', () => {
  let c1: SimCluster
  let c2: SimCluster
  let slow: SimCluster
  let pull: SimCluster
  const kc: Record<string, string> = {}
  const write = (name: string, text: string) => {
    const f = path.join(tmp, name)
    fs.writeFileSync(f, text)
    return f
  }

  beforeAll(async () => {
    ;[c1, c2, slow, pull] = await Promise.all([
      startApiServer({ name: 'cluster1', index: 1, adminToken: 'admin-token-cluster1' }),
      // Short istiod timings for remote-clusters: syncing for 2–3 s, timeout after 3–4 s when unreachable. Not less:
      // a secret's creationTimestamp is whole seconds (up to 1 s early), and the first remote-clusters after it must
      // still see `syncing` on a loaded machine (CI saw `synced` with 200 ms and `timeout` with 1 s).
      startApiServer({
        name: 'cluster2',
        index: 2,
        adminToken: 'admin-token-cluster2',
        remoteClusters: { syncMs: 2000, timeoutMs: 3000 }
      }),
      startApiServer({ name: 'slow', index: 3, adminToken: 'admin-token-slow', deploymentReadyDelayMs: 60_000 }),
      startApiServer({ name: 'pull', index: 4, adminToken: 'admin-token-pull' })
    ])
    for (const c of [c1, c2, slow, pull]) kc[c.name] = write(`kc-${c.name}`, c.kubeconfig(c.name))
  }, 30_000)

  afterAll(async () => {
    await Promise.all([c1, c2, slow, pull].filter(Boolean).map((c) => c.close()))
  })

  const deployment = (c: SimCluster, name: string) => c.store.get('apps/v1', 'Deployment', 'istio-system', name)
  const service = (c: SimCluster, name: string) => c.store.get('v1', 'Service', 'istio-system', name)

  it('install without -y prompts on stdout; EOF → Cancelled., exit 1, nothing written', async () => {
    const before = c1.store.snapshot()
    const r = await istioctl([
      'install',
      '--kubeconfig',
      kc.cluster1,
      '-f',
      write('cp1.yaml', CONTROL_PLANE('cluster1', 'network1'))
    ])
    expect(r.code).toBe(1)
    expect(r.stdout).toBe('This will install the Istio 1.30.3 profile "default" into the cluster. Proceed? (y/N) ')
    expect(r.stderr).toBe('Cancelled.\n')
    expect(c1.store.snapshot()).toBe(before)
  })

  it('strict validation: unknown fields, wrong value types and unknown profiles are errors', async () => {
    const unknown = await istioctl(['install', '-y', '-c', kc.cluster1, '-f', '-'], {
      input:
        'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  components:\n    ingressGateways:\n    - name: x\n      k8s:\n        servce: {}\n'
    })
    expect(unknown).toMatchObject({
      code: 1,
      stderr: 'Error: generate config: could not unmarshal: json: unknown field "servce"\n'
    })
    const typed = await istioctl(['install', '-y', '-c', kc.cluster1, '--set', 'values.global.meshID=7'])
    expect(typed.code).toBe(1)
    // apis.Values decodes through jsonpb: a plain json.Unmarshal per scalar, so the error names no struct field.
    expect(typed.stderr).toBe(
      'Error: generate config: could not unmarshal: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal number into Go value of type string\n'
    )
    const profile = await istioctl(['install', '-y', '-c', kc.cluster1, '--set', 'profile=tiny'])
    expect(profile).toMatchObject({
      code: 1,
      stderr:
        'Error: generate config: merge inputs: profile "tiny" not found: open profiles/tiny.yaml: file does not exist\n'
    })
    expect(c1.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
  })

  it('a revision that parseValue reads as a number or boolean fails validation (inf/nan: a panic); values.revision in a file stays a string', async () => {
    const iop = (spec: string) => `apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n${spec}`
    const install = (input: string, set: string[] = []) =>
      istioctl(['install', '-y', '-c', kc.cluster1, ...set.flatMap((x) => ['--set', x]), '-f', '-'], { input })
    const decode =
      'Error: generate config: could not unmarshal: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal'
    // spec.revision is a string in the file (quoted as the action writes it); istioctl turns it into --set values.revision=<rev>.
    for (const rev of ['130', '1e3', '0x1p3', '007', '99999999999999999999'])
      expect(await install(iop(`  revision: '${rev}'\n`))).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `${decode} number into Go value of type string\n`
      })
    for (const rev of ['true', 'f'])
      expect(await install(iop(`  revision: '${rev}'\n`))).toMatchObject({
        code: 1,
        stdout: '',
        stderr: `${decode} bool into Go value of type string\n`
      })
    for (const [rev, value] of [
      ['inf', '+Inf'],
      ['nan', 'NaN']
    ]) {
      const r = await install(iop(`  revision: '${rev}'\n`))
      expect(r.code).toBe(2)
      expect(
        r.stderr.startsWith(`panic: json Marshal: json: unsupported value: ${value}\n\ngoroutine 1 [running]:\n`)
      ).toBe(true)
    }
    // A --set value is parsed the same way.
    expect(await install(iop('  profile: minimal\n'), ['values.revision=1e-3'])).toMatchObject({
      code: 1,
      stderr: `${decode} number into Go value of type string\n`
    })
    // What ParseFloat refuses (overflow, hex without an exponent) stays a string and passes validation (checked with --dry-run).
    expect(c1.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
    for (const rev of ['1e400', '0x1f', '1-30-3']) {
      const r = await istioctl(['install', '--dry-run', '-y', '-c', kc.cluster1, '-f', '-'], {
        input: iop(`  revision: '${rev}'\n`)
      })
      expect({ rev, ...r, stdout: '' }).toEqual({ rev, code: 0, stdout: '', stderr: '' })
    }
    // values.revision given in the file is merged as it is (MergeFrom), so a quoted "130" there is a string.
    const quoted = await istioctl(['install', '--dry-run', '-y', '-c', kc.cluster1, '-f', '-'], {
      input: iop("  values:\n    revision: '130'\n")
    })
    expect(quoted.code).toBe(0)
    expect(c1.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeUndefined()
  })

  it('installs a named control plane, then the east-west gateway, with the real labels and shapes', async () => {
    const cp = await istioctl([
      'install',
      '-y',
      '--context',
      'cluster1',
      '--kubeconfig',
      kc.cluster1,
      '-f',
      path.join(tmp, 'cp1.yaml')
    ])
    expect(cp.code).toBe(0)
    expect(cp.stderr).toContain(
      '! cacerts secret not found in istio-system: istiod will use a self-signed root; cross-cluster mTLS will fail'
    )
    for (const line of [
      '✔ Istio core installed',
      '✔ Istiod installed',
      '✔ Ingress gateways installed',
      '✔ Installation complete'
    ])
      expect(cp.stderr).toContain(line)

    const ns = c1.store.get('v1', 'Namespace', undefined, 'istio-system')
    expect(ns.metadata.labels['topology.istio.io/network']).toBe('network1')
    const istiod = deployment(c1, 'istiod')
    expect(istiod.metadata.labels).toMatchObject({
      'operator.istio.io/component': 'Pilot',
      'operator.istio.io/managed': 'Reconcile',
      'operator.istio.io/version': '1.30.3',
      'istio.io/rev': 'default',
      'install.operator.istio.io/owning-resource': 'control-plane'
    })
    expect(istiod.metadata.annotations['sim.istio.io/root-cert-sha256']).toBe('self-signed')
    expect(service(c1, 'istiod')).toBeTruthy()
    const values = JSON.parse(c1.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values)
    expect(values.global).toMatchObject({
      meshID: 'mesh1',
      network: 'network1',
      multiCluster: { clusterName: 'cluster1' }
    })
    expect(c1.store.get('v1', 'ConfigMap', 'istio-system', 'istio').data.mesh).toContain('meshId: mesh1')
    expect(
      c1.store.get(
        'admissionregistration.k8s.io/v1',
        'MutatingWebhookConfiguration',
        undefined,
        'istio-sidecar-injector'
      )
    ).toBeTruthy()
    const gwCrd = c1.store.get(
      'apiextensions.k8s.io/v1',
      'CustomResourceDefinition',
      undefined,
      'gateways.networking.istio.io'
    )
    expect(gwCrd.spec.versions.map((v: any) => v.name).sort()).toEqual(['v1', 'v1alpha3', 'v1beta1'])
    expect(
      c1.store.get(
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        undefined,
        'peerauthentications.security.istio.io'
      )
    ).toBeTruthy()
    expect(service(c1, 'istio-ingressgateway').spec.type).toBe('LoadBalancer')

    const ew = await istioctl(['install', '-y', '-c', kc.cluster1, '-f', '-'], { input: EAST_WEST('network1') })
    expect(ew.code).toBe(0)
    expect(ew.stderr).toContain('✔ Ingress gateways installed')
    expect(ew.stderr).not.toContain('Istiod installed')
    const svc = service(c1, 'istio-eastwestgateway')
    const gwLabels = { istio: 'eastwestgateway', app: 'istio-eastwestgateway', 'topology.istio.io/network': 'network1' }
    expect(svc.metadata.labels).toMatchObject({
      ...gwLabels,
      'install.operator.istio.io/owning-resource': 'eastwest',
      'operator.istio.io/component': 'IngressGateways'
    })
    expect(svc.spec.selector).toEqual(gwLabels)
    expect(svc.spec.type).toBe('LoadBalancer')
    expect(svc.metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' })
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([
      ['status-port', 15021, 15021],
      ['tls', 15443, 15443],
      ['tls-istiod', 15012, 15012],
      ['tls-webhook', 15017, 15017]
    ])
    const ewDeploy = deployment(c1, 'istio-eastwestgateway')
    expect(ewDeploy.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([
        { name: 'ISTIO_META_REQUESTED_NETWORK_VIEW', value: 'network1' },
        { name: 'ISTIO_META_NETWORK', value: 'network1' }
      ])
    )
    // The profile "empty" IOP does not touch istiod.
    expect(deployment(c1, 'istiod').metadata.resourceVersion).toBe(istiod.metadata.resourceVersion)
  })

  it('re-installing the named control plane leaves the gateway; an unnamed one prunes it (istio/istio#29633)', async () => {
    const again = await istioctl(['install', '-y', '-c', kc.cluster1, '-f', path.join(tmp, 'cp1.yaml')])
    expect(again.code).toBe(0)
    expect(service(c1, 'istio-eastwestgateway')).toBeTruthy()
    expect(deployment(c1, 'istio-eastwestgateway')).toBeTruthy()

    const unnamed = await istioctl([
      'install',
      '-y',
      '-c',
      kc.cluster1,
      '-f',
      write('cp1-unnamed.yaml', CONTROL_PLANE('cluster1', 'network1', ''))
    ])
    expect(unnamed.code).toBe(0)
    expect(unnamed.stdout).toContain('  Removed apps/v1, Kind=Deployment/istio-eastwestgateway.istio-system.')
    expect(unnamed.stdout).toContain('  Removed /v1, Kind=Service/istio-eastwestgateway.istio-system.')
    expect(service(c1, 'istio-eastwestgateway')).toBeUndefined()
    expect(deployment(c1, 'istio-eastwestgateway')).toBeUndefined()
    expect(service(c1, 'istio-ingressgateway')).toBeTruthy()
    // Put the gateway back for what follows.
    expect(
      (await istioctl(['install', '-y', '-c', kc.cluster1, '-f', '-'], { input: EAST_WEST('network1') })).code
    ).toBe(0)
  })

  it('create-remote-secret: the real output shape, a token the source server accepts, no secrets on stderr', async () => {
    const r = await istioctl([
      'create-remote-secret',
      '--kubeconfig',
      kc.cluster1,
      '--name',
      'cluster1',
      '--server',
      c1.reachableUrl
    ])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(
      r.stdout.startsWith(
        '# This file is autogenerated, do not edit.\napiVersion: v1\nkind: Secret\nmetadata:\n  annotations:\n    networking.istio.io/cluster: cluster1\n  labels:\n    istio/multiCluster: "true"\n  name: istio-remote-secret-cluster1\n  namespace: istio-system\nstringData:\n  cluster1: |\n    apiVersion: v1\n'
      )
    ).toBe(true)
    expect(r.stdout.endsWith('\n---\n')).toBe(true)
    expect(r.stdout).not.toContain(c1.adminToken)
    const secret = yaml.loadAll(r.stdout).filter(Boolean)[0] as any
    const kubeconfig = yaml.load(secret.stringData.cluster1) as any
    expect(kubeconfig.clusters[0].cluster.server).toBe(c1.reachableUrl)
    expect(Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(
      c1.caPem
    )
    const token = kubeconfig.users[0].user.token
    expect(c1.tokenIsValid(token)).toBe(true)
    expect(c1.store.get('v1', 'ServiceAccount', 'istio-system', 'istio-reader-service-account')).toBeTruthy()
    expect(
      c1.store.get('v1', 'Secret', 'istio-system', 'istio-reader-service-account-istio-remote-secret-token').type
    ).toBe('kubernetes.io/service-account-token')
    expect(
      c1.store.get(
        'rbac.authorization.k8s.io/v1',
        'ClusterRoleBinding',
        undefined,
        'istio-reader-clusterrole-istio-system'
      )
    ).toBeTruthy()

    const loop = await istioctl(['create-remote-secret', '-c', kc.cluster1, '--name', 'cluster1'])
    expect(loop.code).toBe(0)
    expect(loop.stderr).toBe(
      `warn: server in Kubeconfig is ${c1.url}. This is likely not reachable from inside the cluster, if you're using Kubernetes in Docker, pass --server with the container IP for the API Server\n`
    )
    expect(loop.stdout).toContain(`server: ${c1.url}`)

    const noName = await istioctl(['create-remote-secret', '-c', kc.cluster1, '--server', c1.reachableUrl])
    const uid = c1.store.get('v1', 'Namespace', undefined, 'kube-system').metadata.uid
    expect(noName.stdout).toContain(`name: istio-remote-secret-${uid}`)
  })

  /** Runs remote-clusters until `done` holds for its output (or 5 s pass); returns the last result. */
  const remoteClustersUntil = async (args: string[], done: (stdout: string) => boolean) => {
    const deadline = Date.now() + 10_000
    for (;;) {
      const r = await istioctl(['remote-clusters', ...args])
      if (done(r.stdout) || Date.now() > deadline) return r
      await new Promise((res) => setTimeout(res, 200))
    }
  }
  const putSecret = async (server: string) => {
    const out = (await istioctl(['create-remote-secret', '-c', kc.cluster1, '--name', 'cluster1', '--server', server]))
      .stdout
    const s = yaml.loadAll(out).filter(Boolean)[0] as any
    // Deleted first: a new secret, so istiod starts syncing it afresh (creationTimestamp).
    c2.store.delete('v1', 'Secret', 'istio-system', s.metadata.name)
    c2.store.put({
      ...s,
      stringData: undefined,
      data: { cluster1: Buffer.from(s.stringData.cluster1).toString('base64') }
    })
  }
  const REMOTE_ROW = /^cluster1\s+istio-system\/istio-remote-secret-cluster1\s+(\S+)\s+(\S+)$/gm
  const remoteRows = (stdout: string) => [...stdout.matchAll(REMOTE_ROW)].map((m) => ({ status: m[1], istiod: m[2] }))

  it('remote-clusters: syncing, then synced through the reachable address; syncing, then timeout through 127.0.0.1', async () => {
    // AllDiscoveryDo (pkg/kube/client.go): no pod `app=istiod,istio.io/rev=default` in phase Running.
    const noIstiod = await istioctl(['remote-clusters', '-c', kc.cluster2])
    expect(noIstiod).toMatchObject({ code: 1, stderr: 'Error: unable to find any Istiod instances\n' })

    expect(
      (
        await istioctl([
          'install',
          '-y',
          '-c',
          kc.cluster2,
          '-f',
          write('cp2.yaml', CONTROL_PLANE('cluster2', 'network2'))
        ])
      ).code
    ).toBe(0)
    await putSecret(c1.reachableUrl)
    const fresh = await istioctl(['remote-clusters', '--context', 'cluster2', '-c', kc.cluster2])
    expect(fresh.code).toBe(0)
    expect(remoteRows(fresh.stdout)).toEqual([{ status: 'syncing', istiod: expect.stringMatching(/^istiod-/) }])
    const ok = await remoteClustersUntil(['-c', kc.cluster2], (out) => remoteRows(out)[0]?.status !== 'syncing')
    const lines = ok.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^NAME\s+SECRET\s+STATUS\s+ISTIOD$/)
    expect(lines[1]).toMatch(/^cluster2\s+synced\s+istiod-\S+$/)
    expect(lines[2]).toMatch(/^cluster1\s+istio-system\/istio-remote-secret-cluster1\s+synced\s+istiod-\S+$/)

    await putSecret(c1.url.replace('127.0.0.1', 'localhost'))
    expect(remoteRows((await istioctl(['remote-clusters', '-c', kc.cluster2])).stdout)[0].status).toBe('syncing')
    const bad = await remoteClustersUntil(['-c', kc.cluster2], (out) => remoteRows(out)[0]?.status !== 'syncing')
    expect(remoteRows(bad.stdout)[0].status).toBe('timeout')
    await putSecret(c1.reachableUrl)
  })

  it('remote-clusters: the default revision unless --revision (the default tag decides), one row per pod, a pod cut off times out', async () => {
    const canary = await istioctl([
      'install',
      '-y',
      '-c',
      kc.cluster2,
      '-f',
      path.join(tmp, 'cp2.yaml'),
      '--set',
      'revision=canary',
      '--set',
      'components.pilot.k8s.replicaCount=2'
    ])
    expect(canary.code).toBe(0)
    const canaryPods = c2.store
      .list('v1', 'Pod', 'istio-system')
      .filter((p: any) => p.metadata.labels?.['istio.io/rev'] === 'canary' && p.metadata.labels?.app === 'istiod')
      .map((p: any) => p.metadata.name)
      .sort()
    expect(canaryPods).toHaveLength(2)
    // No istio-revision-tag-default: "default".
    const byDefault = await istioctl(['remote-clusters', '-c', kc.cluster2])
    expect(remoteRows(byDefault.stdout).map((r) => r.istiod)).toEqual([expect.stringMatching(/^istiod-(?!canary)/)])
    // Each canary pod: its own rows, syncing at first (it has just started), then synced.
    const asked = await remoteClustersUntil(['-c', kc.cluster2, '--revision', 'canary'], (out) =>
      remoteRows(out).every((r) => r.status === 'synced')
    )
    expect(remoteRows(asked.stdout)).toEqual(canaryPods.map((istiod) => ({ status: 'synced', istiod })))
    expect([...asked.stdout.matchAll(/^cluster2\s+synced\s+(\S+)$/gm)].map((m) => m[1])).toEqual(canaryPods)

    // The default tag names canary: asked without --revision, the canary pods answer.
    c2.store.put({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: 'istio-revision-tag-default',
        labels: { 'istio.io/rev': 'canary', 'istio.io/tag': 'default', app: 'sidecar-injector' }
      },
      webhooks: []
    })
    expect(remoteRows((await istioctl(['remote-clusters', '-c', kc.cluster2])).stdout).map((r) => r.istiod)).toEqual(
      canaryPods
    )
    const r131 = await runBin(istioctlBin131, ['remote-clusters', '-c', kc.cluster2])
    expect(r131.stdout).toMatch(
      new RegExp(`^cluster1\\s+istio-system/istio-remote-secret-cluster1\\s+synced\\s+${canaryPods[1]}\\s+canary$`, 'm')
    )

    // One pod cannot reach cluster1 (a network fault): it stays syncing, then times out; the other stays synced.
    const remove = c2.setFault({ kind: 'unreachableFrom', pod: canaryPods[0], cluster: 'cluster1' })
    const cut = await istioctl(['remote-clusters', '-c', kc.cluster2, '--revision', 'canary'])
    // Counted from the pod's start: syncing until the timeout, then timeout.
    expect(remoteRows(cut.stdout)).toEqual([
      { status: expect.stringMatching(/^(syncing|timeout)$/), istiod: canaryPods[0] },
      { status: 'synced', istiod: canaryPods[1] }
    ])
    const timedOut = await remoteClustersUntil(
      ['-c', kc.cluster2, '--revision', 'canary'],
      (out) => remoteRows(out)[0]?.status === 'timeout'
    )
    expect(remoteRows(timedOut.stdout)[0]).toEqual({ status: 'timeout', istiod: canaryPods[0] })
    remove()

    c2.store.delete(
      'admissionregistration.k8s.io/v1',
      'MutatingWebhookConfiguration',
      undefined,
      'istio-revision-tag-default'
    )
    expect((await istioctl(['uninstall', '-y', '--revision', 'canary', '-c', kc.cluster2])).code).toBe(0)
  })

  it("create-remote-secret without -n: the namespace of $KUBECONFIG's current context, and remote-clusters reads only istio-system", async () => {
    const withNs = (c: SimCluster, ctx: string, ns: string) =>
      c.kubeconfig(ctx).replace(`    user: "${ctx}"\n`, `    user: "${ctx}"\n    namespace: ${ns}\n`)
    const create = async (args: string[], env?: Record<string, string>) => {
      const r = await istioctl(['create-remote-secret', '--name', 'cluster1', '--server', c1.reachableUrl, ...args], {
        env
      })
      expect(r.code).toBe(0)
      return yaml.loadAll(r.stdout).filter(Boolean)[0] as any
    }
    const inDefault = write('kc-ns-default', withNs(c1, 'cluster1', 'default'))
    const inOther = write('kc-ns-other', withNs(c1, 'other', 'other-ns'))
    // The cluster comes from --kubeconfig; the namespace from $KUBECONFIG (options.go: GlobalFile is never set).
    expect((await create(['--kubeconfig', kc.cluster1], { KUBECONFIG: inDefault })).metadata.namespace).toBe('default')
    expect(c1.store.get('v1', 'ServiceAccount', 'default', 'istio-reader-service-account')).toBeTruthy()
    // Neither --kubeconfig's own context nor ~/.kube/config count.
    expect((await create(['--kubeconfig', inDefault])).metadata.namespace).toBe('istio-system')
    fs.mkdirSync(path.join(home, '.kube'), { recursive: true })
    fs.writeFileSync(path.join(home, '.kube', 'config'), withNs(c1, 'cluster1', 'default'))
    try {
      expect((await create(['--kubeconfig', kc.cluster1])).metadata.namespace).toBe('istio-system')
      expect((await create([])).metadata.namespace).toBe('istio-system')
    } finally {
      fs.rmSync(path.join(home, '.kube'), { recursive: true, force: true })
    }
    // A list: the merged current-context is the first file's; --context picks the cluster, not the namespace.
    expect(
      (await create(['--context', 'cluster1'], { KUBECONFIG: `${inOther}:${inDefault}` })).metadata.namespace
    ).toBe('other-ns')
    // A file that does not load: GetStartingConfig fails, the istio namespace stays.
    expect(
      (await create(['--kubeconfig', kc.cluster1], { KUBECONFIG: `${write('kc-broken', 'clusters: [')}:${inDefault}` }))
        .metadata.namespace
    ).toBe('istio-system')
    // -n wins over everything.
    expect(
      (await create(['-n', 'istio-system', '--kubeconfig', kc.cluster1], { KUBECONFIG: inDefault })).metadata.namespace
    ).toBe('istio-system')

    // istiod (and so remote-clusters) reads remote secrets only in its own namespace.
    const s = await create(['--kubeconfig', kc.cluster1], { KUBECONFIG: inDefault })
    c2.store.put({
      ...s,
      metadata: { ...s.metadata, name: 'istio-remote-secret-elsewhere' },
      stringData: { elsewhere: s.stringData.cluster1 }
    })
    const rc = await istioctl(['remote-clusters', '-c', kc.cluster2])
    expect(rc.code).toBe(0)
    expect(rc.stdout).not.toContain('elsewhere')
    expect(rc.stdout).toMatch(/^cluster1\s+istio-system\/istio-remote-secret-cluster1\s/m)
  })

  it('cacerts before install: istiod records that root; 1.31 shows the upgrade and the REVISION column', async () => {
    // A complete, valid bundle: istiod started on an incomplete or expired one would crash-loop (apiserver/istiod.js).
    const root = await generateRoot()
    const files = cacertsData(root, await generateIntermediate(root, 'cluster2'))
    const rootPem = files['root-cert.pem']
    c2.store.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cacerts', namespace: 'istio-system' },
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Buffer.from(v).toString('base64')]))
    })
    // Same version, same pod template: the running istiod keeps the self-signed root it started with.
    const same = await istioctl(['install', '-y', '-c', kc.cluster2, '-f', path.join(tmp, 'cp2.yaml')])
    expect(same.stderr).not.toContain('cacerts secret not found')
    expect(deployment(c2, 'istiod').metadata.annotations['sim.istio.io/root-cert-sha256']).toBe('self-signed')

    const up = await runBin(istioctlBin131, ['install', '-y', '-c', kc.cluster2, '-f', path.join(tmp, 'cp2.yaml')])
    expect(up.code).toBe(0)
    expect(up.stderr).toContain('WARNING: Istio is being upgraded from 1.30.3 to 1.31.2.')
    const istiod = deployment(c2, 'istiod')
    expect(istiod.metadata.labels['operator.istio.io/version']).toBe('1.31.2')
    expect(istiod.metadata.annotations['sim.istio.io/root-cert-sha256']).toBe(
      createHash('sha256').update(rootPem).digest('hex')
    )
    expect(istiod.metadata.annotations['sim.istio.io/ca-cert-sha256']).toBe(
      createHash('sha256').update(files['ca-cert.pem']).digest('hex')
    )
    const rc = await runBin(istioctlBin131, ['remote-clusters', '-c', kc.cluster2])
    expect(rc.stdout.split('\n')[0]).toMatch(/^NAME\s+SECRET\s+STATUS\s+ISTIOD\s+REVISION$/)
    expect(rc.stdout.split('\n')[1]).toMatch(/^cluster2\s+synced\s+istiod-\S+\s+default$/)
  })

  it('kubeconfig exec plugins, $KUBECONFIG lists, 401 and the simulated behaviour hook', async () => {
    const plugin = write(
      'token-plugin.sh',
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"${c1.adminToken}"}}'\n`
    )
    fs.chmodSync(plugin, 0o755)
    const execKc = write(
      'kc-exec',
      c1
        .kubeconfig('exec-ctx')
        .replace(
          / {4}token: .*/,
          `    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ${plugin}\n`
        )
    )
    const v = await istioctl(['version', '--kubeconfig', execKc])
    expect(v).toMatchObject({
      code: 0,
      stdout: 'client version: 1.30.3\ncontrol plane version: 1.30.3\ndata plane version: none\n'
    })

    // $KUBECONFIG: first file wins per entry; --context picks the second cluster.
    const both = await istioctl(['remote-clusters', '--context', 'cluster2'], {
      env: { KUBECONFIG: `${kc.cluster1}:${kc.cluster2}` }
    })
    expect(both.code).toBe(0)
    expect(both.stdout).toMatch(/^cluster2\s+synced/m)

    const remove = c1.setFault({ kind: 'expireToken' })
    const denied = await istioctl(['install', '-y', '-c', kc.cluster1, '-f', path.join(tmp, 'cp1.yaml')])
    remove()
    expect(denied).toMatchObject({
      code: 1,
      stderr: 'Error: check minimum supported Kubernetes version: error getting Kubernetes version: Unauthorized\n'
    })

    c1.setFault({ kind: 'istioctl', op: 'create-remote-secret', times: 1, message: 'simulated outage' })
    const failed = await istioctl(['create-remote-secret', '-c', kc.cluster1, '--name', 'cluster1'])
    expect(failed).toMatchObject({ code: 1, stdout: '', stderr: 'Error: simulated outage\n' })

    const unreachable = write('kc-down', c1.kubeconfig('down').replace(c1.url, 'https://127.0.0.1:1'))
    const down = await istioctl(['remote-clusters', '-c', unreachable])
    expect(down.code).toBe(1)
    // GetIstioPods wraps the list error (pkg/kube/client.go): "unable to retrieve Pods: …".
    expect(down.stderr).toMatch(
      /^Error: unable to retrieve Pods: Get "https:\/\/127\.0\.0\.1:1\/.*": dial tcp 127\.0\.0\.1:1: connect: connection refused\n$/
    )
  })

  it('waits for readiness within --readiness-timeout', async () => {
    const r = await istioctl([
      'install',
      '-y',
      '-c',
      kc.slow,
      '--readiness-timeout',
      '1s',
      '--set',
      'profile=minimal',
      '--set',
      'hub=docker.io/istio'
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      '✘ Istiod encountered an error: failed to wait for resource: resources not ready after 1s: context deadline exceeded'
    )
    expect(r.stderr).toContain(
      'Error: failed to install manifests: failed to wait for resource: resources not ready after 1s: context deadline exceeded\n  Deployment/istio-system/istiod (container failed to start: ContainerCreating: )\n'
    )
  })

  it('1.30.3 renders registry.istio.io/release by default: pods stay in ImagePullBackOff, each component waits its own --readiness-timeout', async () => {
    const t0 = Date.now()
    const r = await istioctl(['install', '-y', '-c', kc.pull, '--readiness-timeout', '1s'])
    const took = Date.now() - t0
    expect(r.code).toBe(1)
    const image = (name: string) => `registry.istio.io/release/${name}:1.30.3`
    const backOff = (name: string) =>
      `container failed to start: ImagePullBackOff: Back-off pulling image "${image(name)}": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "${image(name)}": failed to resolve reference "${image(name)}": ${image(name)}: not found`
    // Pilot failed, yet the gateways (which depend on it) still applied and waited: two errors, one per component.
    expect(r.stderr).toContain(
      [
        'Error: failed to install manifests: 2 errors occurred:',
        '\t* failed to wait for resource: resources not ready after 1s: context deadline exceeded',
        `  Deployment/istio-system/istiod (${backOff('pilot')})`,
        '\t* failed to wait for resource: resources not ready after 1s: context deadline exceeded',
        `  Deployment/istio-system/istio-ingressgateway (${backOff('proxyv2')})`,
        ''
      ].join('\n')
    )
    expect(r.stderr).toContain('✔ Istio core installed')
    expect(r.stderr).not.toContain('Installation complete')
    // Base, then Pilot (1 s), then the gateways (1 s): per component, in dependency order.
    expect(took).toBeGreaterThanOrEqual(2000)
    const pod = pull.store.list('v1', 'Pod', 'istio-system').find((p: any) => p.metadata.name.startsWith('istiod-'))
    expect(pod.status.phase).toBe('Pending')
    expect(pod.status.containerStatuses[0].state.waiting.reason).toBe('ImagePullBackOff')
    expect(
      pull.store
        .list('v1', 'Event', 'istio-system')
        .some((e: any) => e.reason === 'BackOff' && e.involvedObject.name === pod.metadata.name)
    ).toBe(true)
  })

  it('the hub: spec.hub or --set hub, under values.global.hub; into the injector values, so gateways injected later take it', async () => {
    const ok = await istioctl([
      'install',
      '-y',
      '-c',
      kc.pull,
      '--readiness-timeout',
      '2s',
      '--set',
      'hub=my-mirror.example/istio'
    ])
    expect(ok.code).toBe(0)
    expect(deployment(pull, 'istiod').spec.template.spec.containers[0].image).toBe(
      'my-mirror.example/istio/pilot:1.30.3'
    )
    expect(deployment(pull, 'istio-ingressgateway').spec.template.spec.containers[0].image).toBe(
      'my-mirror.example/istio/proxyv2:1.30.3'
    )
    const injectorHub = () =>
      JSON.parse(pull.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values).global.hub
    expect(injectorHub()).toBe('my-mirror.example/istio')

    // The user's values.global.hub is merged after spec.hub is translated into it (MergeInputs): it wins.
    const vals = await istioctl([
      'install',
      '-y',
      '-c',
      kc.pull,
      '--readiness-timeout',
      '2s',
      '--set',
      'hub=registry.istio.io/release',
      '--set',
      'values.global.hub=other.example/istio'
    ])
    expect(vals.code).toBe(0)
    expect(deployment(pull, 'istiod').spec.template.spec.containers[0].image).toBe('other.example/istio/pilot:1.30.3')
    expect(injectorHub()).toBe('other.example/istio')

    // An injected gateway (image "auto") gets the injector's hub when its pod is created, whatever its own IOP says.
    const ew = await istioctl(['install', '-y', '-c', kc.pull, '--readiness-timeout', '2s', '-f', '-'], {
      input: EAST_WEST('network1')
    })
    expect(ew.code).toBe(0)
    expect(deployment(pull, 'istio-eastwestgateway').spec.template.spec.containers[0].image).toBe('auto')
    const ewPod = pull.store
      .list('v1', 'Pod', 'istio-system')
      .find((p: any) => p.metadata.name.startsWith('istio-eastwestgateway-'))
    expect(ewPod.spec.containers[0].image).toBe('other.example/istio/proxyv2:1.30.3')
  })

  it('1.29 and 1.31 render docker.io/istio by default; a hub that is no repository is refused', async () => {
    const b = await packageIstioctl('1.29.4', { outDir: path.join(tmp, 'pkg') })
    const bin129 = extract(b.archivePath, path.join(tmp, 'bin-1.29.4'))
    for (const bin of [bin129, istioctlBin131]) {
      const r = await runBin(bin, [
        'install',
        '-y',
        '-c',
        kc.pull,
        '--readiness-timeout',
        '2s',
        '--set',
        'profile=minimal'
      ])
      expect(r.code).toBe(0)
      expect(deployment(pull, 'istiod').spec.template.spec.containers[0].image).toMatch(
        /^docker\.io\/istio\/pilot:1\.(29\.4|31\.2)$/
      )
    }
    const bad = await istioctl(['install', '-y', '-c', kc.pull, '--set', 'hub=Docker.io/Istio'])
    expect(bad).toMatchObject({
      code: 1,
      stderr:
        'Error: generate config: bad hub: repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Istio/pilot\n'
    })
  })

  it('uninstall --purge removes what install created, keeps the namespace and secrets, and is idempotent', async () => {
    const first = await istioctl(['uninstall', '-y', '--purge', '-c', kc.cluster1])
    expect(first.code).toBe(0)
    expect(first.stdout.startsWith('All Istio resources will be pruned from the cluster\n\n')).toBe(true)
    expect(first.stdout).toContain('  Removed apps/v1, Kind=Deployment/istiod.istio-system.')
    expect(first.stdout).toContain(
      '  Removed apiextensions.k8s.io/v1, Kind=CustomResourceDefinition/gateways.networking.istio.io..'
    )
    expect(first.stderr).toContain('✔ Uninstall complete')
    expect(deployment(c1, 'istiod')).toBeUndefined()
    expect(deployment(c1, 'istio-eastwestgateway')).toBeUndefined()
    expect(
      c1.store
        .list('apiextensions.k8s.io/v1', 'CustomResourceDefinition')
        .filter((c: any) => c.metadata.name.endsWith('istio.io'))
    ).toEqual([])
    expect(c1.store.list('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration')).toEqual([])
    expect(c1.store.get('v1', 'Namespace', undefined, 'istio-system')).toBeTruthy()
    expect(
      c1.store.get('v1', 'Secret', 'istio-system', 'istio-reader-service-account-istio-remote-secret-token')
    ).toBeTruthy()

    const second = await istioctl(['uninstall', '-y', '--purge', '-c', kc.cluster1])
    expect(second).toMatchObject({ code: 0, stdout: 'All Istio resources will be pruned from the cluster\n\n' })
  })
})
