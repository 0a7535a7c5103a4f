import { describe, expect, it } from '@jest/globals'
import * as yaml from 'js-yaml'
import { parseConfig } from '../src/config/index.js'
import { buildInstallPlan } from '../src/steps/install-plan.js'
import { StepKind } from '../src/steps/registry.js'
import { RunReport, clusterOutcomes, isVerified, renderSummary } from '../src/report.js'
import { StepResult } from '../src/runner.js'
import { StepError } from '../src/errors.js'
import { isLoopbackServer, parseRemoteSecret } from '../src/kube/remote-secret.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

/** The steps of a cluster in the order of Istio's guide (README "What it does, in order", steps 4 and 5). */
const GUIDE_ORDER: StepKind[] = [
  'namespace',
  'gateway-service',
  'root-of-trust',
  'control-plane',
  'eastwest-gateway',
  'gateway-address',
  'gateway-forwarding',
  'expose-services',
  'remote-secret',
  'remote-secrets-in',
  'verify'
]
/** How a reader would name each of those steps. */
const GUIDE_WORDS = [
  /namespace/i,
  /load balancer/i,
  /root of trust/i,
  /control plane/i,
  /east-west gateway/i,
  /address/i,
  /forward/i,
  /expose services/i,
  /remote secret/i,
  /secrets/i,
  /verify/i
]

/** The Markdown table whose header row starts with `| first |` (the nth such): its header cells and its rows' cells. */
function table(md: string, first: string, nth = 0): { header: string[]; rows: string[][] } {
  const lines = md.split('\n')
  const headers = lines.flatMap((l, i) =>
    l.startsWith(`| ${first} |`) && /^\|(---\|)+$/.test(lines[i + 1]) ? [i] : []
  )
  const start = headers[nth] ?? -1
  expect(start).toBeGreaterThanOrEqual(0)
  const cells = (l: string) =>
    l
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim())
  const body = []
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) body.push(cells(lines[i]))
  expect(lines[start + 1]).toMatch(/^\|(---\|)+$/)
  return { header: cells(lines[start]), rows: body }
}

function report(fail?: string): RunReport {
  const config = parseConfig(
    source({
      clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}',
      kubeconfig: tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')
    })
  )
  const steps = buildInstallPlan(config, { major: 1, minor: 30, patch: 3 })
  const results = new Map<string, StepResult>()
  const broken = new Set(fail ? [fail] : [])
  for (const s of steps) if (s.needs.some((n) => broken.has(n))) broken.add(s.id)
  for (const s of steps) {
    const failed = s.id === fail
    const skipped = !failed && broken.has(s.id)
    results.set(s.id, {
      step: s,
      status: failed ? 'failed' : skipped ? 'skipped' : 'ok',
      // A duration of its own per step and cluster, so that each cell of the summary can be told apart.
      durationMs: (GUIDE_ORDER.indexOf(s.kind) + 1) * 1000 + (s.cluster === 'c2' ? 500 : 0),
      // Step n of the guide starts at n × 10 s: a cluster's time is its last step's end.
      // A cleanup outside the guide (remove-gateway-service) has no start of its own here: it does not move the times.
      startedAt: skipped || !GUIDE_ORDER.includes(s.kind) ? undefined : GUIDE_ORDER.indexOf(s.kind) * 10_000,
      log: [],
      value:
        s.kind === 'gateway-address' && !failed && !skipped
          ? s.cluster === 'c1'
            ? '192.0.2.1'
            : 'a1.elb.amazonaws.com'
          : undefined,
      error: failed ? new StepError(s.cluster, s.title, 'boom', 'istioctl install', 'Error: x') : undefined
    })
  }
  // What `istioctl remote-clusters --context <row>` says of <column>: c2's istiod cannot see c1 when c2 failed.
  const remoteStatus = new Map([
    ['c1', new Map([['c2', 'synced']])],
    ['c2', new Map([['c1', fail ? 'timeout' : 'synced']])]
  ])
  return {
    config,
    istioVersion: '1.30.3',
    istioctlPath: '/t/istioctl',
    results,
    remoteStatus,
    rootCertPem: 'PEM',
    durationMs: 12_300
  }
}

describe('report', () => {
  it('outcomes carry addresses and statuses', () => {
    expect(clusterOutcomes(report())).toEqual([
      { name: 'c1', network: 'n1', context: 'c1', gatewayAddress: '192.0.2.1', status: 'ok' },
      { name: 'c2', network: 'n2', context: 'c2', gatewayAddress: 'a1.elb.amazonaws.com', status: 'ok' }
    ])
    expect(isVerified(report())).toBe(true)
  })

  it('leads with one row per cluster: status, network, gateway address, and the time its steps took', () => {
    for (const fail of [undefined, 'c2/control-plane']) {
      const r = report(fail)
      const { header, rows } = table(renderSummary(r), 'Cluster')
      expect(header).toEqual(['Cluster', 'Status', 'Network', 'Gateway address', 'Time'])
      // c1's steps start at 0, 10 s, 20 s… (report()), so its time runs from the first start to the last end.
      expect(rows).toEqual([
        // verify (step 10) starts at 100 s and takes 11 s; without c2's control plane, its remote secrets in (90 s + 10.5 s) end last.
        ['c1', '✅ ok', 'n1', '`192.0.2.1`', '111.0 s'],
        ['c2', fail ? '❌ failed' : '✅ ok', 'n2', fail ? '—' : '`a1.elb.amazonaws.com`', fail ? '100.5 s' : '111.5 s']
      ])
    }
  })

  it('on failure, says first what went wrong: the failed step, its cause, the fix when known, and the error', () => {
    const r = report('c2/gateway-address')
    r.results.get('c2/gateway-address')!.error = new StepError(
      'c2',
      'east-west gateway address',
      'service istio-system/istio-eastwestgateway got no external address (ip or hostname) within 300 s.\nIt has no events.'
    )
    const md = renderSummary(r)
    const section = md.slice(md.indexOf('### What went wrong'), md.indexOf('| Cluster |'))
    expect(md.indexOf('### What went wrong')).toBeGreaterThan(0)
    expect(section).toContain(
      '**c2 · east-west gateway address**: service istio-system/istio-eastwestgateway got no external address (ip or hostname) within 300 s.'
    )
    expect(section).toContain('**Fix:** A LoadBalancer Service needs a load-balancer implementation')
    expect(section).toContain('```\nc2 · east-west gateway address: service istio-system')
    // An unknown cause gets its error, and no invented fix.
    const other = renderSummary(report('c2/control-plane'))
    expect(other).toContain('**c2 · control plane (istioctl install)**: boom')
    expect(other.slice(other.indexOf('### What went wrong'), other.indexOf('| Cluster |'))).not.toContain('**Fix:**')
    expect(renderSummary(report())).not.toContain('What went wrong')
  })

  it('puts the step durations in a collapsible block: each step in the order of the guide, with its duration and status', () => {
    for (const fail of [undefined, 'c2/control-plane']) {
      const r = report(fail)
      const md = renderSummary(r)
      expect(md).toContain(fail ? '❌ incomplete' : '✅ ready')
      const details = md.slice(md.indexOf('<details>'), md.indexOf('</details>'))
      expect(details).toMatch(/^<details><summary>Step durations per cluster<\/summary>/)
      const { header, rows } = table(details, 'Cluster')
      expect(header).toHaveLength(1 + GUIDE_ORDER.length + 1)
      header.slice(1, -1).forEach((h, i) => expect(h).toMatch(GUIDE_WORDS[i]))
      expect(header.at(-1)).toBe('Result')
      expect(rows.map((row) => row[0])).toEqual(['c1', 'c2'])
      // Every cell from the run's own results: ✅ or ❌ with the step's duration, ⏭️ for a skipped one.
      const icon = { ok: '✅', failed: '❌', skipped: '⏭️', cancelled: '🚫' }
      for (const [i, c] of ['c1', 'c2'].entries()) {
        const expected = GUIDE_ORDER.map((k) => {
          const res = r.results.get(`${c}/${k}`)!
          return res.status === 'skipped' ? '⏭️ skipped' : `${icon[res.status]} ${(res.durationMs / 1000).toFixed(1)} s`
        })
        expect(rows[i].slice(1, -1)).toEqual(expected)
      }
      expect(rows.map((row) => row.at(-1))).toEqual(fail ? ['✅ ok', '❌ failed'] : ['✅ ok', '✅ ok'])
    }
    // The failing run: c2's control plane failed, and what needs it was skipped.
    const failed = report('c2/control-plane')
    expect(
      ['eastwest-gateway', 'gateway-address', 'expose-services', 'verify'].map(
        (k) => failed.results.get(`c2/${k}`)!.status
      )
    ).toEqual(['skipped', 'skipped', 'skipped', 'skipped'])
    expect(renderSummary(failed)).toContain(failed.results.get('c2/control-plane')!.error!.message)
    expect(clusterOutcomes(failed)[1].status).toBe('failed')
    expect(isVerified(failed)).toBe(false)
  })

  it('draws the mesh: one subgraph per network holding its clusters and addresses, remote secrets between them', () => {
    const md = renderSummary(report())
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1].split('\n') ?? []
    expect(block[0]).toBe('flowchart LR')
    // subgraph … end blocks, by the network named in their label.
    const networks = new Map<string, string[]>()
    for (let i = 0; i < block.length; i++) {
      const m = /^\s*subgraph \S+\["network (\S+)"\]$/.exec(block[i])
      if (!m) continue
      const end = block.indexOf('  end', i)
      networks.set(m[1], block.slice(i + 1, end))
    }
    expect([...networks.keys()]).toEqual(['n1', 'n2'])
    expect(networks.get('n1')).toEqual([expect.stringMatching(/^\s*(\w+)\["c1<br\/>.*192\.0\.2\.1"\]$/)])
    expect(networks.get('n2')).toEqual([expect.stringMatching(/^\s*(\w+)\["c2<br\/>.*a1\.elb\.amazonaws\.com"\]$/)])
    // Both secrets applied: one edge, both ways, between the two nodes.
    const node = (n: string) => /^\s*(\w+)\[/.exec(networks.get(n)![0])![1]
    const edges = block.filter((l) => l.includes(node('n1')) && l.includes(node('n2')) && !l.includes('['))
    expect(edges).toEqual([expect.stringMatching(new RegExp(`^\\s*${node('n1')} <--.*--> ${node('n2')}$`))])
  })

  it('shows what each istiod sees: row the istiod asked (remote-clusters --context), column the cluster it watches', () => {
    for (const [fail, c2SeesC1] of [
      [undefined, 'synced'],
      ['c2/control-plane', 'timeout']
    ] as const) {
      const { header, rows } = table(renderSummary(report(fail)), 'istiod in ↓ / sees →')
      expect(header.slice(1)).toEqual(['c1', 'c2'])
      expect(rows).toEqual([
        ['c1', '·', 'synced'],
        ['c2', c2SeesC1, '·']
      ])
    }
  })

  it("lists each cluster's intermediate CA expiry and what the run did to it", () => {
    const r = report()
    r.rootCertPem = undefined
    r.intermediates = new Map([
      ['c1', { notAfter: '2028-05-03T10:00:00.000Z', outcome: 'renewed' as const }],
      ['c2', { notAfter: '2027-01-31T23:59:59.000Z', outcome: 'kept' as const }]
    ])
    const md = renderSummary(r)
    const section = md.slice(md.indexOf('**Root of trust**'))
    const items = section
      .split('\n\n')[1]
      .split('\n')
      .filter((l) => l.startsWith('- '))
    // One item per cluster, its day (UTC) from the input; only the re-issued one says so.
    expect(items).toHaveLength(2)
    expect(items[0]).toMatch(/^- c1: .*2028-05-03.*re-issued/)
    expect(items[1]).toMatch(/^- c2: .*2027-01-31/)
    expect(items[1]).not.toMatch(/re-issued|replaced|created/)
    expect(renderSummary(report())).not.toContain('**Root of trust**')
  })
})

describe('istioctl output parsing', () => {
  it('reads a remote secret without echoing it', () => {
    const out = `# This file is autogenerated, do not edit.
apiVersion: v1
kind: Secret
metadata:
  annotations:
    networking.istio.io/cluster: cluster1
  labels:
    istio/multiCluster: "true"
  name: istio-remote-secret-cluster1
  namespace: istio-system
stringData:
  cluster1: |
    apiVersion: v1
    clusters:
    - cluster:
        certificate-authority-data: QUJD
        server: https://127.0.0.1:6443
      name: cluster1
    contexts:
    - context:
        cluster: cluster1
        user: cluster1
      name: cluster1
    current-context: cluster1
    kind: Config
    users:
    - name: cluster1
      user:
        token: sekret-token-123
---
`
    const { manifest, ...info } = parseRemoteSecret(out)
    expect(yaml.load(manifest)).toMatchObject({ kind: 'Secret', data: { cluster1: expect.any(String) } })
    expect(yaml.load(manifest)).not.toHaveProperty('stringData')
    expect(info).toEqual({
      secretName: 'istio-remote-secret-cluster1',
      cluster: 'cluster1',
      server: 'https://127.0.0.1:6443',
      token: 'sekret-token-123'
    })
    expect(isLoopbackServer('https://127.0.0.1:6443')).toBe(true)
    expect(isLoopbackServer('https://localhost:6443')).toBe(true)
    expect(isLoopbackServer('https://c1-control-plane:6443')).toBe(false)
    let message = ''
    try {
      parseRemoteSecret('token: sekret-token-123\n')
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toBe('create-remote-secret printed no Secret')
  })
})
