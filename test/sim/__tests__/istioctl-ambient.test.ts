// What the simulated istioctl renders for the ambient profile (test/sim/istioctl/render-ambient.js): the page's
// cluster1.yaml (profile ambient + AMBIENT_ENABLE_MULTI_NETWORK), merged as istioctl merges it.
import { beforeAll, describe, expect, it } from '@jest/globals'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'
import * as yaml from 'js-yaml'
import { runCommand } from '../../harness/spawn.js'

const PAGE_CLUSTER1 = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: ambient
  components:
    pilot:
      k8s:
        env:
          - name: AMBIENT_ENABLE_MULTI_NETWORK
            value: "true"
  values:
    global:
      meshID: mesh1
      multiCluster:
        clusterName: cluster1
      network: network1
`

// In a Node process of its own: under Jest, structuredClone's objects come from another realm, which js-yaml refuses.
const SIM_ISTIOCTL = path.join(process.cwd(), 'test/sim/istioctl')
const SCRIPT = `
import { mergeInputs } from '${pathToFileURL(path.join(SIM_ISTIOCTL, 'iop.js'))}'
import { renderManifests } from '${pathToFileURL(path.join(SIM_ISTIOCTL, 'render.js'))}'
const [text, flags] = JSON.parse(process.argv[1])
const iop = mergeInputs([{ name: 'cluster1.yaml', text }], flags, '1.30.3')
console.log(JSON.stringify(renderManifests(iop, { version: '1.30.3', rootCert: 'self-signed' })))
`
const rendered = new Map<string, { component: string; objects: any[] }[]>()
async function renderIn(text: string, setFlags: string[] = []) {
  const r = await runCommand('node', ['--input-type=module', '-e', SCRIPT, JSON.stringify([text, setFlags])])
  if (r.code !== 0) throw new Error(r.stderr)
  rendered.set(JSON.stringify([text, setFlags]), JSON.parse(r.stdout))
}
const DEFAULT_PROFILE = PAGE_CLUSTER1.replace('profile: ambient', 'profile: default')
beforeAll(async () => {
  await Promise.all([renderIn(PAGE_CLUSTER1), renderIn(PAGE_CLUSTER1, ['revision=canary']), renderIn(DEFAULT_PROFILE)])
})

const render = (text: string, setFlags: string[] = []) => {
  const out = rendered.get(JSON.stringify([text, setFlags]))!
  const objects = out.flatMap((c) => c.objects)
  const get = (kind: string, name: string) => objects.find((o: any) => o.kind === kind && o.metadata.name === name)
  return { components: out.map((c) => c.component), get }
}
const envOf = (o: any) => Object.fromEntries(o.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]))

describe('simulated istioctl: the ambient profile', () => {
  it('renders Base, istiod, istio-cni and ztunnel, and no ingress gateway', () => {
    const { components } = render(PAGE_CLUSTER1)
    expect(components).toEqual(['Base', 'Pilot', 'Cni', 'Ztunnel'])
  })

  it("gives istiod the chart profile's PILOT_ENABLE_AMBIENT and the page's AMBIENT_ENABLE_MULTI_NETWORK", () => {
    const { get } = render(PAGE_CLUSTER1)
    expect(envOf(get('Deployment', 'istiod'))).toMatchObject({
      PILOT_ENABLE_AMBIENT: 'true',
      AMBIENT_ENABLE_MULTI_NETWORK: 'true',
      CA_TRUSTED_NODE_ACCOUNTS: 'istio-system/ztunnel',
      CLUSTER_ID: 'cluster1'
    })
    const mesh = yaml.load(get('ConfigMap', 'istio').data.mesh) as any
    expect(mesh.serviceScopeConfigs).toEqual([
      {
        servicesSelector: { matchExpressions: [{ key: 'istio.io/global', operator: 'In', values: ['true'] }] },
        scope: 'GLOBAL'
      }
    ])
    expect(mesh.defaultConfig.proxyMetadata).toEqual({ ISTIO_META_ENABLE_HBONE: 'true' })
  })

  it('gives ztunnel the network and cluster from global (the chart flattens globals), istiod of the revision', () => {
    expect(envOf(render(PAGE_CLUSTER1).get('DaemonSet', 'ztunnel'))).toMatchObject({
      NETWORK: 'network1',
      ISTIO_META_CLUSTER_ID: 'cluster1',
      CA_ADDRESS: 'istiod.istio-system.svc:15012',
      XDS_ADDRESS: 'istiod.istio-system.svc:15012'
    })
    const rev = render(PAGE_CLUSTER1, ['revision=canary'])
    expect(envOf(rev.get('DaemonSet', 'ztunnel')).XDS_ADDRESS).toBe('istiod-canary.istio-system.svc:15012')
  })

  it('the default profile stays without ambient', () => {
    const { components, get } = render(DEFAULT_PROFILE)
    expect(components).not.toContain('Ztunnel')
    expect(envOf(get('Deployment', 'istiod')).PILOT_ENABLE_AMBIENT).toBeUndefined()
    expect((yaml.load(get('ConfigMap', 'istio').data.mesh) as any).serviceScopeConfigs).toBeUndefined()
  })
})
