// Pure helpers that every run relies on: durations, redaction, kubeconfig decoding, and reading a cluster's state.
import { describe, expect, it } from '@jest/globals'
import { formatSeconds, parseDuration } from '../src/duration.js'
import { redact, registerSecret } from '../src/secrets.js'
import { decodeKubeconfigText, parseKubeconfigs } from '../src/kube/kubeconfig.js'
import { changedObjects, parseClusterRead, parseClusterState } from '../src/state.js'
import { tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

describe('parseDuration (Go-style, as kubectl and istioctl take them)', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5m', 90_000],
    ['250ms', 250],
    ['2m30s', 150_000]
  ])('%s is %i ms', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', '5 m', 'm', '-5s', '5d', '1h 30m', 'five'])('%j is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined()
  )

  it('formats seconds with one decimal', () => expect(formatSeconds(1234)).toBe('1.2 s'))
})

describe('registerSecret / redact', () => {
  it('replaces every registered value, its lines too, longest first', () => {
    registerSecret('pem-line-one-abcdef\npem-line-two-ghijkl')
    registerSecret('token-0123456789')
    registerSecret('token-0123456789-longer')
    expect(redact('a pem-line-two-ghijkl b')).toBe('a *** b')
    // The longer value is replaced whole, not as "***-longer".
    expect(redact('x token-0123456789-longer y token-0123456789')).toBe('x *** y ***')
  })

  it('leaves short values alone: redacting "admin" would garble ordinary words', () => {
    registerSecret('admin')
    expect(redact('user admin')).toBe('user admin')
  })
})

describe('kubeconfig text as users paste it', () => {
  const yaml = tokenKubeconfig('one')
  it.each([
    ['raw YAML', yaml],
    ['base64', Buffer.from(yaml).toString('base64')],
    [
      'base64 wrapped at 76 columns',
      Buffer.from(yaml)
        .toString('base64')
        .replace(/(.{76})/g, '$1\n')
    ],
    ['base64url (no padding, - and _)', Buffer.from(yaml + '# ???>>>\n').toString('base64url')]
  ])('%s decodes to the same kubeconfig', (_, text) => {
    expect(decodeKubeconfigText(text)).toContain('current-context: one')
    expect(parseKubeconfigs(text)[0].contexts?.[0]?.name).toBe('one')
  })

  it('base64url really uses the URL alphabet here (the case above would not decode as plain base64)', () => {
    const text = Buffer.from(yaml + '# ???>>>\n').toString('base64url')
    expect(text).toMatch(/[-_]/)
  })
})

describe('parseClusterState', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  const ns = JSON.stringify({
    kind: 'Namespace',
    metadata: { name: 'istio-system', resourceVersion: '7', labels: { 'topology.istio.io/network': 'net1' } }
  })
  const list = JSON.stringify({
    items: [
      {
        kind: 'Deployment',
        metadata: {
          name: 'istiod',
          resourceVersion: '10',
          labels: { app: 'istiod', 'operator.istio.io/version': '1.30.3' }
        }
      },
      {
        kind: 'Deployment',
        metadata: {
          name: 'istiod-canary',
          resourceVersion: '11',
          labels: { app: 'istiod', 'istio.io/rev': 'canary', 'operator.istio.io/version': '1.31.1' }
        }
      },
      {
        kind: 'Service',
        metadata: { name: 'istio-eastwestgateway', resourceVersion: '12', labels: { 'istio.io/rev': 'default' } },
        status: { loadBalancer: { ingress: [{ hostname: 'gw.example' }] } }
      },
      {
        kind: 'ConfigMap',
        metadata: { name: 'istio-sidecar-injector', resourceVersion: '13' },
        data: {
          values: JSON.stringify({ global: { meshID: 'm', multiCluster: { clusterName: 'one' }, network: 'net1' } })
        }
      },
      {
        kind: 'Secret',
        metadata: {
          name: 'istio-remote-secret-two',
          resourceVersion: '14',
          labels: { 'istio/multiCluster': 'true' },
          annotations: { 'networking.istio.io/cluster': 'two' }
        },
        data: { two: b64('kubeconfig') }
      },
      {
        kind: 'Secret',
        metadata: { name: 'istio-remote-secret-three', resourceVersion: '15', labels: { 'istio/multiCluster': 'true' } }
      },
      {
        kind: 'Secret',
        metadata: { name: 'cacerts', resourceVersion: '16' },
        data: { 'root-cert.pem': b64('ROOT'), 'ca-key.pem': b64('secret-key-material') }
      }
    ]
  })

  it('reads network, istiods per revision, gateway address, mesh values, remote secrets and cacerts', () => {
    const s = parseClusterState(ns, list)
    expect(s.namespaceExists).toBe(true)
    expect(s.network).toBe('net1')
    expect(s.istiods).toEqual([
      { name: 'istiod', revision: 'default', version: '1.30.3' },
      { name: 'istiod-canary', revision: 'canary', version: '1.31.1' }
    ])
    expect(s.gateway).toEqual({ address: 'gw.example', revision: 'default' })
    expect(s.values).toEqual({ meshID: 'm', clusterName: 'one', network: 'net1' })
    // Without the annotation the cluster comes from the secret's name, as istioctl names it.
    expect(s.remoteSecrets).toEqual([
      { name: 'istio-remote-secret-two', cluster: 'two' },
      { name: 'istio-remote-secret-three', cluster: 'three' }
    ])
    expect(s.cacerts?.['root-cert.pem']).toBe('ROOT')
    // Key material read from cacerts is masked at once.
    expect(redact('x secret-key-material')).toBe('x ***')
  })

  it('one read: istio-system found among every Namespace, the others ignored, the same state as two reads', () => {
    const other = { kind: 'Namespace', metadata: { name: 'default', resourceVersion: '3' } }
    const { items } = JSON.parse(list)
    const one = JSON.stringify({ kind: 'List', items: [other, JSON.parse(ns), ...items] })
    expect(parseClusterRead(one)).toEqual(parseClusterState(ns, list))
    expect(parseClusterRead(one).versions['Namespace/default']).toBeUndefined()
    // No istio-system among the namespaces: missing, whatever else the cluster has.
    const missing = parseClusterRead(JSON.stringify({ kind: 'List', items: [other] }))
    expect(missing.namespaceExists).toBe(false)
    expect(missing.versions).toEqual({})
  })

  it('a missing namespace and an empty list are a clean cluster', () => {
    expect(parseClusterState('', '')).toEqual({
      namespaceExists: false,
      istiods: [],
      remoteSecrets: [],
      retiredImages: [],
      versions: {}
    })
  })

  it('changedObjects names what a run changed, added or removed, by resourceVersion', () => {
    const before = parseClusterState(ns, list)
    const after = parseClusterState(
      ns,
      list
        .replace('"resourceVersion":"12"', '"resourceVersion":"20"')
        .replace(/,\{"kind":"Secret","metadata":\{"name":"cacerts".*?\}\}\]/, ']')
    )
    expect(changedObjects(before, before)).toEqual([])
    expect(changedObjects(before, after)).toEqual(['Secret/cacerts', 'Service/istio-eastwestgateway'])
  })
})
