// mode: check's pure parts: how a failed read is classified, what the version, root-of-trust and network-label checks
// conclude from hand-made cluster states, the LoadBalancer check's manifest, and the summary.
import { describe, expect, it } from '@jest/globals'
import { accessFailure } from '../src/checks/access.js'
import { networkLabelCheck } from '../src/checks/network.js'
import { renderChecksSummary } from '../src/checks/summary.js'
import { trustChecks } from '../src/checks/trust.js'
import { Check } from '../src/checks/types.js'
import { versionChecks } from '../src/checks/version.js'
import { parseConfig } from '../src/config/index.js'
import { loadBalancerCheck } from '../src/manifests/check.js'
import { ClusterState } from '../src/state.js'
import { cacertsData, generateIntermediate, generateRoot } from '../src/trust/certs.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

const config = (extra: Record<string, string> = {}) =>
  parseConfig(
    source({
      clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}',
      kubeconfig: tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2'),
      ...extra
    })
  )
const empty = (more: Partial<ClusterState> = {}): ClusterState => ({
  namespaceExists: false,
  istiods: [],
  remoteSecrets: [],
  retiredImages: [],
  versions: {},
  ...more
})
const running = (version: string, more: Partial<ClusterState> = {}) =>
  empty({ namespaceExists: true, network: 'n1', istiods: [{ name: 'istiod', revision: 'default', version }], ...more })
const statuses = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.id, c.status]))

describe('accessFailure', () => {
  it.each([
    ['error: You must be logged in to the server (Unauthorized)', 'the credentials were refused', 'Renew'],
    [
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)',
      'the credentials were refused',
      'Renew'
    ],
    [
      'Error from server (Forbidden): secrets is forbidden: User "x" cannot list resource "secrets"',
      'may not read istio-system',
      'cluster-admin'
    ],
    [
      'Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority',
      'not trusted',
      'certificate-authority-data'
    ],
    ['dial tcp: lookup api.example.invalid on 127.0.0.53:53: no such host', 'does not resolve', 'private cluster'],
    [
      'The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?',
      'refused',
      'port'
    ],
    ['Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout', 'did not answer in time', 'firewall']
  ])('%s → the cause and its fix', (stderr, cause, hint) => {
    const c = accessFailure(
      'c2',
      `kubectl --context c2 get namespace exited with code 1\nstderr (last lines):\n${stderr}`
    )
    expect(c).toMatchObject({ id: 'api-server-from-runner/c2', status: 'fail', cluster: 'c2' })
    expect(c.message).toContain(cause)
    expect(c.message).toContain(stderr)
    expect(c.hint).toContain(hint)
  })

  it('says the read failed when the cause is unknown, and how to find out', () => {
    const c = accessFailure('c1', 'something odd')
    expect(c.message).toBe('the runner cannot read c1: the read failed (something odd)')
    expect(c.hint).toMatch(/^Run the command/)
  })
})

describe('versionChecks', () => {
  it('says what install would do per cluster, skips an unreadable one, and fails a skipped minor', () => {
    const states = new Map([['c1', running('1.28.9')]])
    const checks = versionChecks(config(), '1.30.3', states)
    expect(statuses(checks)).toEqual({ 'istio-version/c1': 'fail', 'istio-version/c2': 'skip' })
    expect(checks[0].message).toContain('c1 runs Istio 1.28.9 (revision default); going to 1.30.3 skips 1 minor')
    expect(checks[0].hint).toContain('allow-skip-minor')
  })

  it('passes an in-place upgrade and a fresh cluster, warns of a downgrade and an unknown version', () => {
    const c = config()
    expect(
      versionChecks(
        c,
        '1.30.3',
        new Map([
          ['c1', running('1.29.6')],
          ['c2', empty()]
        ])
      )
    ).toEqual([
      {
        id: 'istio-version/c1',
        cluster: 'c1',
        status: 'pass',
        message:
          'runs Istio 1.29.6 (revision default): install would do an in-place upgrade of 1.29.6 (default) → 1.30.3 (default)'
      },
      {
        id: 'istio-version/c2',
        cluster: 'c2',
        status: 'pass',
        message: 'no istiod yet: install would install Istio 1.30.3'
      }
    ])
    const [down, unknown] = versionChecks(
      c,
      '1.30.2',
      new Map([
        ['c1', running('1.30.3')],
        ['c2', running('')]
      ])
    )
    expect(down.status).toBe('warn')
    expect(down.message).toContain('a downgrade of 1.30.3 (default) → 1.30.2 (default)')
    expect(unknown.status).toBe('warn')
    expect(unknown.message).toContain('the version of istiod is not known')
  })
})

describe('trustChecks', () => {
  it('passes clusters with no cacerts yet (ca: generate), fails them with ca: existing, warns with ca: none', () => {
    const states = new Map([
      ['c1', empty()],
      ['c2', empty()]
    ])
    expect(statuses(trustChecks(config(), states))).toEqual({ 'root-of-trust/c1': 'pass', 'root-of-trust/c2': 'pass' })
    expect(statuses(trustChecks(config({ ca: 'existing' }), states))).toEqual({
      'root-of-trust/c1': 'fail',
      'root-of-trust/c2': 'fail'
    })
    expect(statuses(trustChecks(config({ ca: 'none' }), states))).toEqual({
      'root-of-trust/c1': 'warn',
      'root-of-trust/c2': 'warn'
    })
  })

  it('passes cacerts that chain to one root, fails the one that chains to another, warns with ca-rotate', async () => {
    const [a, b] = await Promise.all([generateRoot({ meshId: 'a' }), generateRoot({ meshId: 'b' })])
    const cacerts = async (root: typeof a, name: string) => cacertsData(root, await generateIntermediate(root, name))
    const states = new Map([
      ['c1', running('1.30.3', { cacerts: await cacerts(a, 'c1') })],
      ['c2', running('1.30.3', { cacerts: await cacerts(a, 'c2') })]
    ])
    expect(statuses(trustChecks(config({ ca: 'existing' }), states))).toEqual({
      'root-of-trust/c1': 'pass',
      'root-of-trust/c2': 'pass'
    })
    states.set('c2', running('1.30.3', { cacerts: await cacerts(b, 'c2') }))
    const [, bad] = trustChecks(config({ ca: 'existing' }), states)
    expect(bad.status).toBe('fail')
    expect(bad.message).toMatch(/^c2's cacerts chains to .*, not to the mesh root .* \(from c1's cacerts\)/)
    expect(bad.hint).toContain('ca-rotate: true')
    // ca: generate with cacerts it did not make and no stored root: install refuses it.
    expect(statuses(trustChecks(config(), states))).toEqual({ 'root-of-trust/c1': 'fail', 'root-of-trust/c2': 'fail' })
    expect(statuses(trustChecks(config({ 'ca-rotate': 'true' }), states))).toEqual({
      'root-of-trust/c1': 'warn',
      'root-of-trust/c2': 'warn'
    })
    // The stored root of ca: generate is the mesh root.
    states.set('c1', running('1.30.3', { cacerts: await cacerts(a, 'c1'), storedRoot: a }))
    expect(statuses(trustChecks(config(), states))).toEqual({ 'root-of-trust/c1': 'pass', 'root-of-trust/c2': 'fail' })
  })
})

describe('networkLabelCheck', () => {
  const c1 = config().clusters[0]
  it('passes when namespace, configuration, gateway Service and pods agree, or istio-system is yet to come', () => {
    expect(
      networkLabelCheck(c1, {
        namespaceExists: true,
        namespace: 'n1',
        service: { present: true, label: 'n1' },
        pods: [{ name: 'gw-1', label: 'n1' }]
      }).status
    ).toBe('pass')
    expect(networkLabelCheck(c1, { namespaceExists: false, pods: [] }).status).toBe('pass')
  })

  it('fails a gateway pod on another network, naming every value seen', () => {
    const r = networkLabelCheck(c1, {
      namespaceExists: true,
      namespace: 'n1',
      service: { present: true, label: 'n1' },
      pods: [{ name: 'gw-1' }]
    })
    expect(r.status).toBe('fail')
    expect(r.message).toContain(
      'topology.istio.io/network — istio-system: "n1"; configured: "n1"; service istio-eastwestgateway: "n1"; pod gw-1: (none)'
    )
  })

  it('warns when install would move a labelled istio-system to the configured network', () => {
    const r = networkLabelCheck(c1, { namespaceExists: true, namespace: 'other', pods: [] })
    expect(r.status).toBe('warn')
    expect(r.hint).toContain('"other"')
  })
})

describe('loadBalancerCheck', () => {
  it('is a namespace of its own and a LoadBalancer Service on 15443 that selects no pod, with the gateway annotations', () => {
    const [ns, svc] = loadBalancerCheck({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' })
    expect(ns).toMatchObject({ kind: 'Namespace', metadata: { name: 'istio-multicluster-check' } })
    expect(svc).toMatchObject({
      kind: 'Service',
      metadata: {
        namespace: 'istio-multicluster-check',
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
      },
      spec: { type: 'LoadBalancer', ports: [{ port: 15443 }] }
    })
  })
})

describe('renderChecksSummary', () => {
  it('leads with what went wrong and its fix, then one row per check (pipes escaped)', () => {
    const md = renderChecksSummary('mesh1', '1.30.3', [
      {
        id: 'load-balancer/c1',
        cluster: 'c1',
        status: 'fail',
        message: 'no address | pending',
        hint: 'install MetalLB'
      },
      { id: 'istio-version/c1', cluster: 'c1', status: 'pass', message: 'fresh' }
    ])
    const lines = md.split('\n')
    expect(lines[0]).toBe('## Istio multi-cluster mesh `mesh1` — pre-flight check for Istio 1.30.3: ❌ 1 failed')
    expect(md.indexOf('### What went wrong')).toBeLessThan(md.indexOf('| Check |'))
    expect(md).toContain('  **Fix:** install MetalLB')
    expect(lines).toContain('| `load-balancer/c1` | c1 | ❌ fail | no address \\| pending | install MetalLB |')
  })
})
