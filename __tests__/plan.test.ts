import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../src/config/index.js'
import { buildInstallPlan, remoteSecretPairs } from '../src/steps/install-plan.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

function config(n: number, extra: Record<string, string> = {}) {
  const names = Array.from({ length: n }, (_, i) => `c${i + 1}`)
  return parseConfig(
    source({
      clusters: names.map((c, i) => `- {name: ${c}, network: n${i + 1}${i === 0 ? ', api-server: "https://c1-control-plane:6443"' : ''}}`).join('\n'),
      kubeconfig: names.map((c) => tokenKubeconfig(c)).join('---\n'),
      ...extra
    })
  )
}
const V = { major: 1, minor: 30, patch: 3 }

describe('install plan', () => {
  it.each([2, 3])('for %i clusters has every ordered pair of remote secrets, N·(N−1)', (n) => {
    const steps = buildInstallPlan(config(n), V)
    const pairs = remoteSecretPairs(steps)
    expect(pairs).toHaveLength(n * (n - 1))
    const expected = []
    for (let a = 1; a <= n; a++) for (let b = 1; b <= n; b++) if (a !== b) expected.push([`c${a}`, `c${b}`])
    expect(pairs.sort()).toEqual(expected.sort())
  })

  it('orders each cluster: namespace → root of trust → control plane → gateway → address; expose after the control plane', () => {
    const steps = buildInstallPlan(config(2), V)
    const byId = new Map(steps.map((s) => [s.id, s]))
    expect(steps.filter((s) => s.cluster === 'c1').map((s) => s.kind)).toEqual([
      'namespace',
      'root-of-trust',
      'control-plane',
      'eastwest-gateway',
      'gateway-address',
      'expose-services',
      'remote-secret',
      'remote-secrets-in',
      'verify'
    ])
    expect(byId.get('c1/root-of-trust')!.needs).toEqual(['c1/namespace'])
    expect(byId.get('c1/control-plane')!.needs).toEqual(['c1/root-of-trust'])
    expect(byId.get('c1/eastwest-gateway')!.needs).toEqual(['c1/control-plane'])
    expect(byId.get('c1/gateway-address')!.needs).toEqual(['c1/eastwest-gateway'])
    expect(byId.get('c1/expose-services')!.needs).toEqual(['c1/control-plane'])
    // Remote secrets need only namespaces; what has slack is ordered (not made dependent) behind the istioctl installs.
    expect(byId.get('c2/remote-secrets-in')!.needs.sort()).toEqual(['c1/remote-secret', 'c2/namespace'])
    expect(byId.get('c1/remote-secret')).toMatchObject({ needs: ['c1/namespace'], after: ['c1/control-plane'] })
    expect(byId.get('c1/expose-services')!.after).toEqual(['c1/eastwest-gateway'])
    // A changed remote secret may restart the istiod of its cluster: that must be the istiod this run leaves behind.
    expect(byId.get('c2/remote-secrets-in')!.after).toEqual(['c2/control-plane'])
    expect(steps.filter((s) => s.after).map((s) => s.kind)).toEqual([
      'expose-services',
      'remote-secret',
      'expose-services',
      'remote-secret',
      'remote-secrets-in',
      'remote-secrets-in'
    ])
    // remote-clusters reports on this cluster's istiod and the remote secrets in it: it does not wait for any gateway.
    expect(byId.get('c1/verify')!.needs).toEqual(['c1/control-plane', 'c1/remote-secrets-in'])
  })

  it('passes api-server to create-remote-secret --server, and carries every manifest', () => {
    const steps = buildInstallPlan(config(2), V)
    expect(steps.find((s) => s.id === 'c1/remote-secret')!.action).toEqual({ type: 'create-remote-secret', server: 'https://c1-control-plane:6443' })
    expect(steps.find((s) => s.id === 'c2/remote-secret')!.action).toEqual({ type: 'create-remote-secret', server: undefined })
    const cp = steps.find((s) => s.id === 'c2/control-plane')!.action
    expect(cp.type === 'istioctl-install' && cp.iop).toContain('clusterName: c2')
  })

  it('drops the root-of-trust step with ca: none and the verify steps with verify: none', () => {
    const steps = buildInstallPlan(config(2, { ca: 'none', verify: 'none' }), V)
    expect(steps.some((s) => s.kind === 'root-of-trust' || s.kind === 'verify')).toBe(false)
    expect(steps.find((s) => s.id === 'c1/control-plane')!.needs).toEqual(['c1/namespace'])
  })

  it('every need names a step of the plan (no dangling edges, no cycles)', () => {
    const steps = buildInstallPlan(config(3), V)
    const ids = new Set(steps.map((s) => s.id))
    for (const s of steps) for (const n of s.needs) expect(ids.has(n)).toBe(true)
    const done = new Set<string>()
    let progress = true
    while (progress) {
      progress = false
      for (const s of steps) if (!done.has(s.id) && s.needs.every((n) => done.has(n))) (done.add(s.id), (progress = true))
    }
    expect(done.size).toBe(steps.length)
  })

  it('verify: traffic spreads helloworld v1/v2 over the clusters, checks from each, then cleans up whatever happened', () => {
    const steps = buildInstallPlan(config(3, { verify: 'traffic' }), V)
    const deploys = steps.filter((s) => s.kind === 'verify-deploy')
    expect(deploys.map((s) => s.title)).toEqual([
      'verify: deploy helloworld v1 and curl',
      'verify: deploy helloworld v2 and curl',
      'verify: deploy helloworld v1 and curl'
    ])
    const c2 = deploys[1].action
    expect(c2.type === 'apply' && c2.manifest).toContain('istio-injection: enabled')
    expect(c2.type === 'apply' && c2.manifest).toContain('image: docker.io/istio/examples-helloworld-v2:1.0')
    const traffic = steps.find((s) => s.id === 'c1/verify-traffic')!
    expect(traffic.action).toEqual({ type: 'verify-traffic', versions: ['v1', 'v2'], timeoutMs: 180_000 })
    expect(traffic.needs).toEqual(['c1/verify-deploy', 'c2/verify-deploy', 'c3/verify-deploy', 'c1/verify'])
    const cleanup = steps.find((s) => s.id === 'c2/verify-cleanup')!
    expect(cleanup).toMatchObject({
      always: true,
      needs: ['c1/verify-traffic', 'c2/verify-traffic', 'c3/verify-traffic'],
      action: { type: 'delete-namespace', namespace: 'istio-multicluster-verify' }
    })
    expect(buildInstallPlan(config(2, { verify: 'traffic', 'verify-keep': 'true' }), V).some((s) => s.kind === 'verify-cleanup')).toBe(false)
  })

  it('with a revision, the verify namespace selects it instead of istio-injection', () => {
    const steps = buildInstallPlan(config(2, { verify: 'traffic', revision: '1-30-3' }), V)
    const a = steps.find((s) => s.id === 'c1/verify-deploy')!.action
    expect(a.type === 'apply' && a.manifest).toContain('istio.io/rev: 1-30-3')
  })
})
