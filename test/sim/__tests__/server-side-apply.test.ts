// Server-side apply and field ownership in the simulated API server (apiserver/managedfields.js), driven by the real
// kubectl; the simulated istioctl applying as istio-operator; a re-created load balancer getting a new address.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runCommand } from '../../harness/spawn.js'
import { startApiServer, type SimCluster } from '../apiserver/index.js'

let dir: string
let sim: SimCluster
let kubeconfig: string

const env = () => ({ ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(dir, 'cache'), HOME: dir })
const kubectl = (args: string[], stdin?: string) => runCommand('kubectl', args, { env: env(), stdin })
const ssa = (manager: string, yaml: string, ...more: string[]) =>
  kubectl(['apply', '--server-side', `--field-manager=${manager}`, ...more, '-f', '-'], yaml)
/** The simulated istioctl from the source tree (the release archive bundles the same code). */
const istioctl = (args: string[], stdin?: string) =>
  runCommand(
    process.execPath,
    [fileURLToPath(new URL('../istioctl/cli.js', import.meta.url)), ...args, '--kubeconfig', kubeconfig],
    {
      env: { ...env(), SIM_ISTIOCTL_VERSION: '1.30.3' },
      stdin
    }
  )

const svc = (opts: { labels?: Record<string, string>; annotations?: Record<string, string>; ports?: number[] }) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'gw',
      namespace: 'default',
      labels: opts.labels ?? {},
      ...(opts.annotations ? { annotations: opts.annotations } : {})
    },
    spec: { type: 'ClusterIP', selector: { app: 'gw' }, ports: (opts.ports ?? [15443]).map((port) => ({ port })) }
  })
const stored = (name = 'gw', ns = 'default') => sim.store.get('v1', 'Service', ns, name)
const managers = (o: any) =>
  (o.metadata.managedFields ?? []).map(
    (e: any) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`
  )

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sim-ssa-'))
  sim = await startApiServer({ name: 'ssa', index: 7, adminToken: 'token-ssa', lb: { mode: 'ip', delayMs: 50 } })
  kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, sim.kubeconfig(), { mode: 0o600 })
})
afterAll(async () => {
  await sim?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('server-side apply', () => {
  it('the applier owns exactly what it applied; the same apply again changes nothing', async () => {
    const r = await ssa('istio-operator', svc({ labels: { a: '1', b: '2' }, annotations: { x: 'y' } }))
    expect(r).toMatchObject({ code: 0, stdout: 'service/gw serverside-applied\n' })
    const first = stored()
    expect(managers(first)).toEqual(['istio-operator/Apply'])
    const fields = first.metadata.managedFields[0].fieldsV1
    expect(fields['f:metadata']).toEqual({ 'f:labels': { 'f:a': {}, 'f:b': {} }, 'f:annotations': { 'f:x': {} } })
    // A list-map item is keyed as the server keys it (port + the defaulted protocol), the server's defaults unowned.
    expect(Object.keys(fields['f:spec']['f:ports'])).toEqual(['k:{"port":15443,"protocol":"TCP"}'])
    expect(fields['f:spec']['f:clusterIP']).toBeUndefined()
    expect(first.spec.clusterIP).toBeTruthy()

    await ssa('istio-operator', svc({ labels: { a: '1', b: '2' }, annotations: { x: 'y' } }))
    expect(stored().metadata.resourceVersion).toBe(first.metadata.resourceVersion)
  })

  it('a field another manager owns: 409 without force, taken over with --force-conflicts', async () => {
    const conflict = await ssa('other', svc({ labels: { a: 'changed' } }))
    expect(conflict.code).toBe(1)
    expect(conflict.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "istio-operator": .metadata.labels.a'
    )
    expect(stored().metadata.labels.a).toBe('1')

    // The same value is no conflict: both own it.
    expect((await ssa('other', svc({ labels: { b: '2' } }))).code).toBe(0)
    const forced = await ssa('other', svc({ labels: { a: 'changed', b: '2' } }), '--force-conflicts')
    expect(forced.code).toBe(0)
    const after = stored()
    expect(after.metadata.labels).toMatchObject({ a: 'changed', b: '2' })
    const owner = (m: string) => after.metadata.managedFields.find((e: any) => e.manager === m).fieldsV1['f:metadata']
    expect(owner('istio-operator')['f:labels']).toEqual({ 'f:b': {} })
    expect(owner('other')['f:labels']).toEqual({ 'f:a': {}, 'f:b': {} })
  })

  it('what the applier stops applying goes, unless another manager owns it; an update owns what it changed', async () => {
    await kubectl(['delete', 'service', 'gw'])
    await ssa('istio-operator', svc({ labels: { a: '1', b: '2' }, annotations: { x: 'y' }, ports: [15443, 15021] }))
    expect((await kubectl(['label', 'service', 'gw', 'd=4'])).code).toBe(0)
    expect(managers(stored())).toEqual(['istio-operator/Apply', 'kubectl-label/Update'])

    await ssa('istio-operator', svc({ labels: { a: '1', d: '4' }, ports: [15021] }))
    const s = stored()
    expect(s.metadata.labels).toEqual({ a: '1', d: '4' })
    expect(s.metadata.annotations).toBeUndefined()
    expect(s.spec.ports.map((p: any) => p.port)).toEqual([15021])
    expect(s.spec.clusterIP).toBeTruthy()

    // It shares d with kubectl-label now; when it stops applying d, kubectl-label's d stays.
    await ssa('istio-operator', svc({ labels: { a: '1' }, ports: [15021] }))
    expect(stored().metadata.labels).toEqual({ a: '1', d: '4' })
  })

  it('a create through POST is owned by its writer, defaults included', async () => {
    const r = await kubectl(['apply', '-f', '-'], svc({ labels: { c: '1' } }).replace('"gw"', '"csa"'))
    expect(r.code).toBe(0)
    const s = stored('csa')
    expect(managers(s)).toEqual(['kubectl-client-side-apply/Update'])
    expect(s.metadata.managedFields[0].fieldsV1['f:spec']['f:clusterIP']).toEqual({})
  })
})

describe('load balancer', () => {
  it('a re-created LoadBalancer Service gets another address', async () => {
    const lb = (name: string) => svc({}).replace('"gw"', `"${name}"`).replace('"ClusterIP"', '"LoadBalancer"')
    const address = async (name: string) => {
      for (let i = 0; i < 100; i++) {
        const ip = stored(name)?.status?.loadBalancer?.ingress?.[0]?.ip
        if (ip) return { ip, uid: stored(name).metadata.uid }
        await new Promise((r) => setTimeout(r, 20))
      }
      throw new Error(`no address for ${name}`)
    }
    await ssa('istio-operator', lb('lb'))
    const first = await address('lb')
    expect(first.ip).toBe('192.0.2.7')
    await kubectl(['delete', 'service', 'lb'])
    await ssa('istio-operator', lb('lb'))
    const second = await address('lb')
    expect(second.uid).not.toBe(first.uid)
    expect(second.ip).not.toBe(first.ip)
  })
})

describe('simulated istioctl install', () => {
  it('applies as istio-operator with force, and takes over what that manager applied before without re-creating it', async () => {
    const iop = JSON.stringify({
      apiVersion: 'install.istio.io/v1alpha1',
      kind: 'IstioOperator',
      metadata: { name: 'eastwest' },
      spec: {
        profile: 'empty',
        hub: 'docker.io/istio',
        components: {
          ingressGateways: [
            {
              name: 'istio-eastwestgateway',
              label: { istio: 'eastwestgateway', app: 'istio-eastwestgateway' },
              enabled: true,
              k8s: { service: { ports: [{ name: 'tls', port: 15443, targetPort: 15443 }] } }
            }
          ]
        }
      }
    })
    // The Service before the install, with a label istioctl does not render: the install removes it.
    await kubectl(['apply', '-f', '-'], '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"istio-system"}}')
    const early = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'istio-eastwestgateway',
        namespace: 'istio-system',
        labels: { istio: 'eastwestgateway', app: 'istio-eastwestgateway', extra: 'ours' }
      },
      spec: { type: 'LoadBalancer', selector: { istio: 'eastwestgateway' }, ports: [{ name: 'tls', port: 15443 }] }
    })
    expect((await ssa('istio-operator', early, '--force-conflicts')).code).toBe(0)
    const before = stored('istio-eastwestgateway', 'istio-system')
    const r = await istioctl(['install', '-y', '-f', '-', '--readiness-timeout', '5s'], iop)
    expect(r.stderr).toContain('Installation complete')
    const after = stored('istio-eastwestgateway', 'istio-system')
    expect(after.metadata.uid).toBe(before.metadata.uid)
    expect(after.metadata.labels.extra).toBeUndefined()
    expect(after.metadata.labels).toMatchObject({ 'operator.istio.io/component': 'IngressGateways' })
    expect(after.spec.selector).toEqual({ istio: 'eastwestgateway', app: 'istio-eastwestgateway' })
    // Its port as istioctl renders it, with the node port the server allocated (nobody's field) kept.
    expect(after.spec.ports).toEqual([
      { name: 'tls', port: 15443, targetPort: 15443, protocol: 'TCP', nodePort: before.spec.ports[0].nodePort }
    ])
    expect(managers(after)).toEqual(['istio-operator/Apply'])
    const deploy = sim.store.get('apps/v1', 'Deployment', 'istio-system', 'istio-eastwestgateway')
    expect(managers(deploy)).toEqual(['istio-operator/Apply'])
  })
})
