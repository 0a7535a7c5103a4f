import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { parseConfig } from '../src/config/index.js'
import { ambientNetworkWarnings, dataPlaneVersionProblem, needsEastWestGateway } from '../src/config/data-plane.js'
import { dataPlaneChange } from '../src/preflight-data-plane.js'
import { ClusterState, parseClusterRead, parseClusterState } from '../src/state.js'
import { roleChange } from '../src/config/topology.js'
import { istioctlReadsAs } from '../src/config/revision.js'
import { InputError } from '../src/errors.js'
import { BAD_INPUTS } from '../__fixtures__/bad-inputs.js'
import { CANARY, CLIENT_CERT, EKS_EXEC, GKE_EXEC, source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'
import { BASIC_CA_EXTENSIONS, opensslRootCaSync } from '../__fixtures__/openssl-ca.js'

const TWO = '- {name: c1, network: n1}\n- {name: c2, network: n2}'
const KC = tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')

describe('parseConfig: valid input', () => {
  it('applies the defaults', () => {
    const c = parseConfig(source({ clusters: TWO, kubeconfig: KC }))
    expect(c.clusters.map((x) => [x.name, x.network, x.sourceContext])).toEqual([
      ['c1', 'n1', 'c1'],
      ['c2', 'n2', 'c2']
    ])
    expect(c).toMatchObject({
      meshId: 'mesh1',
      istioVersion: { kind: 'latest' },
      gatewayTimeoutMs: 300_000,
      hub: 'docker.io/istio',
      readinessTimeoutMs: 300_000,
      maxParallel: Infinity,
      exportKubeconfig: false,
      ca: { mode: 'generate', rotate: false },
      verify: { mode: 'remote-clusters', timeoutMs: 180_000, keep: false },
      // The probe pods use the traffic check's curl image unless told otherwise.
      probeImage: 'docker.io/curlimages/curl:8.16.0'
    })
    expect(
      parseConfig(source({ clusters: TWO, kubeconfig: KC, 'probe-image': 'mirror.example/curl:8' })).probeImage
    ).toBe('mirror.example/curl:8')
    expect(c.downloadBaseUrl).toBe('https://github.com/istio/istio/releases/download')
  })

  it('takes a hub that is a registry and path (a mirror, a port, no registry) and a readiness timeout', () => {
    const hub = (h: string) => parseConfig(source({ clusters: TWO, kubeconfig: KC, hub: h })).hub
    for (const h of [
      'my-mirror.example/istio',
      'localhost:5000/istio',
      'registry.example.com:443/a/b_c/istio-release',
      'istio',
      'gcr.io/my-proj/istio'
    ])
      expect(hub(h)).toBe(h)
    expect(parseConfig(source({ clusters: TWO, kubeconfig: KC, 'readiness-timeout': '2s' })).readinessTimeoutMs).toBe(
      2000
    )
  })

  it('renames each context to its cluster, so kind-kind twice does not collide, and masks both tokens', () => {
    const c = parseConfig(
      source(
        {
          clusters:
            '- {name: east, network: n1, kubeconfig-env: KC_EAST, context: kind-kind}\n- {name: west, network: n2, kubeconfig-env: KC_WEST, context: kind-kind, api-server: "https://west-control-plane:6443"}'
        },
        {
          KC_EAST: tokenKubeconfig('kind-kind', 'https://127.0.0.1:1111', `${CANARY}-east`),
          KC_WEST: Buffer.from(tokenKubeconfig('kind-kind', 'https://127.0.0.1:2222', `${CANARY}-west`)).toString(
            'base64'
          )
        }
      )
    )
    expect(c.kubeconfig.contexts).toEqual([
      { name: 'east', context: { cluster: 'east', user: 'east' } },
      { name: 'west', context: { cluster: 'west', user: 'west' } }
    ])
    expect(c.kubeconfig.clusters.map((x) => x.cluster.server)).toEqual([
      'https://127.0.0.1:1111',
      'https://127.0.0.1:2222'
    ])
    expect(c.secrets).toEqual(expect.arrayContaining([`${CANARY}-east`, `${CANARY}-west`]))
    expect(c.clusters[1]).toMatchObject({
      apiServer: 'https://west-control-plane:6443',
      source: 'kubeconfig-env KC_WEST'
    })
  })

  it('passes EKS and GKE exec plugins, proxy-url, client certificates and insecure-skip-tls-verify through unchanged', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-'))
    fs.writeFileSync(path.join(dir, 'onprem.yaml'), CLIENT_CERT)
    const c = parseConfig(
      source(
        {
          clusters: `- {name: east, network: aws, context: "arn:aws:eks:us-east-1:111122223333:cluster/east"}\n- {name: west, network: gcp, kubeconfig-env: GKE, context: gke_proj_europe-west1_west}\n- {name: dc, network: dc, kubeconfig-file: ${path.join(dir, 'onprem.yaml')}, context: onprem-admin}`,
          kubeconfig: EKS_EXEC
        },
        { GKE: GKE_EXEC },
        { [path.join(dir, 'onprem.yaml')]: CLIENT_CERT }
      )
    )
    const [eks, gke, dc] = c.kubeconfig.users.map((u) => u.user)
    expect(eks.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: ['--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'east', '--output', 'json'],
      env: [{ name: 'AWS_PROFILE', value: 'ci' }],
      interactiveMode: 'Never'
    })
    expect(gke.exec).toMatchObject({ command: 'gke-gcloud-auth-plugin', provideClusterInfo: true })
    expect(c.kubeconfig.clusters[1].cluster['proxy-url']).toBe('http://proxy.internal:3128')
    expect(c.kubeconfig.clusters[2].cluster['insecure-skip-tls-verify']).toBe(true)
    // Relative file references are resolved against the kubeconfig's own folder: the copy lives elsewhere.
    expect(dc['client-certificate']).toBe(path.join(dir, 'certs/admin.crt'))
    expect(c.secrets.some((s) => s.includes(`${CANARY}KEYLINE`))).toBe(true)
    fs.rmSync(dir, { recursive: true })
  })

  it('merges several kubeconfig documents, the first name winning as kubectl does', () => {
    const c = parseConfig(
      source({
        clusters: TWO,
        kubeconfig:
          tokenKubeconfig('c1', 'https://a:1') +
          '---\n' +
          tokenKubeconfig('c1', 'https://b:2') +
          '---\n' +
          tokenKubeconfig('c2', 'https://c:3')
      })
    )
    expect(c.kubeconfig.clusters.map((x) => x.cluster.server)).toEqual(['https://a:1', 'https://c:3'])
  })

  it('resolves each context\'s user in its own document: two pasted kubeconfigs that both call their user "admin" keep their own tokens', () => {
    const c = parseConfig(
      source({
        clusters: TWO,
        kubeconfig:
          tokenKubeconfig('c1', 'https://a:1', 'token-of-c1') +
          '---\n' +
          tokenKubeconfig('c2', 'https://b:2', 'token-of-c2')
      })
    )
    expect(c.kubeconfig.users.map((u) => u.user.token)).toEqual(['token-of-c1', 'token-of-c2'])
  })

  it('falls back to $KUBECONFIG when no kubeconfig input is given', () => {
    const c = parseConfig(
      source(
        { clusters: TWO },
        { KUBECONFIG: `/k/one${path.delimiter}/k/two` },
        { '/k/one': tokenKubeconfig('c1'), '/k/two': tokenKubeconfig('c2') }
      )
    )
    expect(c.clusters.map((x) => x.source)).toEqual(['$KUBECONFIG', '$KUBECONFIG'])
  })

  it('parses versions, durations, overlays and annotations', () => {
    const c = parseConfig(
      source({
        clusters: TWO,
        kubeconfig: KC,
        'istio-version': '1.30',
        'gateway-timeout': '1m30s',
        'max-parallel': '2',
        'operator-overlay': 'spec:\n  meshConfig:\n    accessLogFile: /dev/stdout',
        'gateway-service-annotations': 'service.beta.kubernetes.io/aws-load-balancer-type: nlb\nx/port: 15443'
      })
    )
    expect(c.istioVersion).toEqual({ kind: 'minor', major: 1, minor: 30 })
    expect(c.gatewayTimeoutMs).toBe(90_000)
    expect(c.maxParallel).toBe(2)
    expect(c.operatorOverlay).toEqual({ spec: { meshConfig: { accessLogFile: '/dev/stdout' } } })
    expect(c.gatewayServiceAnnotations).toEqual({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
      'x/port': '15443'
    })
  })

  it('accepts a provided root whose key matches, and rejects one that does not', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-'))
    const gen = (n: string) =>
      opensslRootCaSync({ dir, name: n, days: 1, subject: '/O=Istio/CN=Root CA', extensions: BASIC_CA_EXTENSIONS })
    const a = gen('a')
    const b = gen('b')
    fs.rmSync(dir, { recursive: true })
    const ok = parseConfig(
      source({ clusters: TWO, kubeconfig: KC, ca: 'provided', 'ca-root-cert': a.cert, 'ca-root-key': a.key })
    )
    expect(ok.ca.mode).toBe('provided')
    expect(ok.secrets).toContain(a.key.trim() + '\n')
    let message = ''
    try {
      parseConfig(
        source({ clusters: TWO, kubeconfig: KC, ca: 'provided', 'ca-root-cert': a.cert, 'ca-root-key': b.key })
      )
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toMatch(/^Input "ca-root-key": does not match the public key of ca-root-cert/)
    expect(message).not.toContain('PRIVATE KEY')
  })
})

describe('clusters: role and primary', () => {
  const kc3 = KC + '---\n' + tokenKubeconfig('c3')
  it('defaults to primary; a remote keeps the primary it names', () => {
    const c = parseConfig(
      source({
        clusters:
          '- {name: c1, network: n1}\n- {name: c2, network: n1, role: remote, primary: c1}\n- {name: c3, network: n3, role: primary}',
        kubeconfig: kc3
      })
    )
    expect(c.clusters.map((x) => [x.name, x.role, x.primary])).toEqual([
      ['c1', 'primary', undefined],
      ['c2', 'remote', 'c1'],
      ['c3', 'primary', undefined]
    ])
  })
})

describe('roleChange: a running cluster listed in another role', () => {
  const clusters = parseConfig(
    source({
      clusters: '- {name: c1, network: n1}\n- {name: c2, network: n1, role: remote, primary: c1}',
      kubeconfig: KC
    })
  ).clusters
  const running = { namespaceExists: true, istiods: [{ name: 'istiod', version: '1.30.3' }] }
  const remote = { namespaceExists: true, istiods: [], controlPlaneClusters: 'c1', remoteProfile: true }
  it('accepts each cluster in the role it has, and clusters not installed yet', () => {
    expect(
      roleChange(
        clusters,
        new Map([
          ['c1', running],
          ['c2', remote]
        ])
      )
    ).toBeUndefined()
    expect(roleChange(clusters, new Map([['c1', { namespaceExists: false, istiods: [] }]]))).toBeUndefined()
    // Uninstalled with keep-namespace: the annotation stays, the remote profile is gone; it may become a primary.
    expect(roleChange(clusters, new Map([['c1', { ...remote, remoteProfile: false }]]))).toBeUndefined()
  })
  it('refuses a remote that runs its own istiod, and a primary that is a remote now: uninstall first', () => {
    expect(
      roleChange(
        clusters,
        new Map([
          ['c1', running],
          ['c2', running]
        ])
      )
    ).toMatch(
      /^Input "clusters", item 2, field "role": "c2" is listed as remote but runs its own istiod \(istiod 1\.30\.3\): it is a primary\. Changing a running cluster's role is not supported: uninstall Istio from c2 first/
    )
    expect(roleChange(clusters, new Map([['c1', { ...remote, controlPlaneClusters: 'c9' }]]))).toMatch(
      /^Input "clusters", item 1, field "role": "c1" is listed as primary but is a remote of c9/
    )
  })
})

describe('revision and operator-overlay: what istioctl would misread or what changes the topology', () => {
  const parse = (extra: Record<string, string>) => parseConfig(source({ clusters: TWO, kubeconfig: KC, ...extra }))

  it('istioctlReadsAs: the DNS-1123 labels that strconv.Atoi, ParseFloat or ParseBool accept, and only those', () => {
    const cases: [string, 'number' | 'boolean' | undefined][] = [
      ['130', 'number'],
      ['007', 'number'],
      ['9'.repeat(63), 'number'], // past int64: ParseFloat takes it
      ['1e3', 'number'],
      ['1e-3', 'number'],
      ['1e-400', 'number'], // underflows to 0 without an error
      ['0x1p3', 'number'],
      ['0x1p-3', 'number'],
      ['0x0p99999', 'number'],
      ['inf', 'number'],
      ['infinity', 'number'],
      ['nan', 'number'],
      ['t', 'boolean'],
      ['f', 'boolean'],
      ['true', 'boolean'],
      ['false', 'boolean'],
      ['1e308', 'number'],
      ['1e309', undefined], // overflows: ParseFloat fails, the value stays a string
      ['0x1p1023', 'number'],
      ['0x2p1023', undefined],
      ['0x1f', undefined], // hex needs a p exponent
      ['1p3', undefined],
      ['e3', undefined],
      ['infin', undefined],
      ['1-30-3', undefined],
      ['1-0', undefined],
      ['canary', undefined],
      ['yes', undefined] // YAML 1.1 would say boolean; Go's ParseBool does not
    ]
    expect(cases.map(([rev]) => [rev, istioctlReadsAs(rev)])).toEqual(cases)
  })

  it('accepts revisions istioctl keeps as strings', () => {
    for (const rev of ['1-30-3', 'canary', '0x1f', '1e309', 'yes']) expect(parse({ revision: rev }).revision).toBe(rev)
  })

  it('accepts the sidecar profiles and settings that keep the topology', () => {
    for (const profile of ['default', 'demo', 'minimal', 'preview', 'stable', 'openshift', '""'])
      expect(parse({ 'operator-overlay': `spec: {profile: ${profile}}` }).operatorOverlay).toEqual({
        spec: { profile: profile === '""' ? '' : profile }
      })
    for (const overlay of [
      'spec: {values: {profile: demo}}',
      'spec: {values: {global: {profile: stable}}}',
      'spec: {components: {cni: {enabled: true}, ztunnel: {enabled: false}, istiodRemote: {enabled: false}, pilot: {enabled: true}}}'
    ])
      expect(() => parse({ 'operator-overlay': overlay })).not.toThrow()
  })

  it('refuses the other profiles and the components that change the topology, naming the field', () => {
    const refused: [string, RegExp][] = [
      [
        'spec: {profile: openshift-ambient}',
        /field "spec\.profile": is "openshift-ambient"; the action installs a sidecar multi-primary control plane: use one of/
      ],
      ['spec: {profile: tiny}', /field "spec\.profile": is "tiny"/],
      [
        'spec: {values: {profile: remote}}',
        /field "spec\.values\.profile": is "remote"; .*: use one of "demo", "preview", "stable"$/
      ],
      [
        'spec: {components: {istiodRemote: {enabled: true}}}',
        /field "spec\.components\.istiodRemote\.enabled": makes the cluster a remote of an external control plane/
      ],
      ['spec: {values: {revision: "1-30-3"}}', /field "spec\.values\.revision": is set by the "revision" input/]
    ]
    for (const [overlay, error] of refused) {
      expect(() => parse({ 'operator-overlay': overlay })).toThrow(InputError)
      expect(() => parse({ 'operator-overlay': overlay })).toThrow(error)
    }
  })
})

describe('parseConfig: bad input gets one error naming the input, the item and what is wrong', () => {
  it('has at least 40 cases', () => expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(40))
  it.each(BAD_INPUTS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    let error: unknown
    try {
      parseConfig(source(c.inputs, c.env ?? {}))
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InputError)
    expect((error as Error).message).toMatch(c.error)
    expect((error as Error).message).not.toContain(CANARY)
  })
})

describe('data-plane: sidecar (default) or ambient', () => {
  const KC3 = KC + '---\n' + tokenKubeconfig('c3')
  const parse = (extra: Record<string, string>, clusters = TWO) =>
    parseConfig(source({ clusters, kubeconfig: KC3, ...extra }))

  it('defaults to sidecar; ambient with latest, a minor or a release from 1.29 on', () => {
    expect(parse({}).dataPlane).toBe('sidecar')
    for (const v of ['', 'latest', '1.29', '1.29.0', '1.30.3', '1.31'])
      expect(parse({ 'data-plane': 'ambient', 'istio-version': v }).dataPlane).toBe('ambient')
  })

  it('refuses ambient once latest resolves to a release before 1.29, after no cluster request', () => {
    expect(dataPlaneVersionProblem('ambient', '1.28.10')).toMatch(/^data-plane "ambient" needs Istio 1\.29 or newer/)
    expect(dataPlaneVersionProblem('ambient', '1.29.0')).toBeUndefined()
    expect(dataPlaneVersionProblem('sidecar', '1.19.0')).toBeUndefined()
  })

  it('warns, citing the limitations page, when ambient clusters share a network; those get no east-west gateway', () => {
    const c = parse(
      { 'data-plane': 'ambient' },
      '- {name: c1, network: n1}\n- {name: c2, network: n1}\n- {name: c3, network: n3}'
    )
    const warnings = ambientNetworkWarnings(c.dataPlane, c.clusters)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^data-plane "ambient": clusters c1, c2 share network "n1"\. Ambient multicluster on one network is alpha \("untested, and may be broken", https:\/\/istio\.io\/latest\/docs\/ambient\/install\/multicluster\//
    )
    // c1 and c2 still need one: c3 is on another network. Alone on one network, nobody does.
    expect(c.clusters.map((x) => needsEastWestGateway(x, c.clusters))).toEqual([true, true, true])
    const one = parse({ 'data-plane': 'ambient' }, '- {name: c1, network: n1}\n- {name: c2, network: n1}')
    expect(one.clusters.map((x) => needsEastWestGateway(x, one.clusters))).toEqual([false, false])
    expect(ambientNetworkWarnings('sidecar', one.clusters)).toEqual([])
  })

  it("refuses at plan time to change a running cluster's data plane, from what the cluster carries", () => {
    const state = (dataPlane?: 'sidecar' | 'ambient') =>
      ({
        namespaceExists: true,
        istiods: [],
        remoteSecrets: [],
        retiredImages: [],
        versions: {},
        dataPlane
      }) as ClusterState
    const ambient = parse({ 'data-plane': 'ambient' })
    expect(
      dataPlaneChange(
        ambient,
        new Map([
          ['c1', state('ambient')],
          ['c2', state()]
        ])
      )
    ).toBeUndefined()
    expect(
      dataPlaneChange(
        ambient,
        new Map([
          ['c1', state('sidecar')],
          ['c2', state('ambient')]
        ])
      )
    ).toBe(
      'c1 runs the sidecar data plane (istiod without ztunnel), not data-plane "ambient". Changing the data plane of a running mesh is not supported: uninstall first (mode: uninstall), then install with data-plane: ambient; or keep data-plane: sidecar.'
    )
    expect(
      dataPlaneChange(
        parse({}),
        new Map([
          ['c1', state('ambient')],
          ['c2', state('ambient')]
        ])
      )
    ).toMatch(/^c1, c2 run the ambient data plane \(DaemonSet ztunnel in istio-system\), not data-plane "sidecar"/)
  })

  it('reads the data plane from the one read of istio-system: ztunnel → ambient, istiod or remote → sidecar', () => {
    const ns = { kind: 'Namespace', metadata: { name: 'istio-system' } }
    const other = { kind: 'Namespace', metadata: { name: 'default' } }
    const istiod = { kind: 'Deployment', metadata: { name: 'istiod', labels: { app: 'istiod' } } }
    const ztunnel = { kind: 'DaemonSet', metadata: { name: 'ztunnel' } }
    // profile remote: the istiod Service without a selector, no istiod Deployment.
    const remote = { kind: 'Service', metadata: { name: 'istiod' }, spec: {} }
    const read = (...items: object[]) => parseClusterRead(JSON.stringify({ items: [other, ns, ...items] })).dataPlane
    expect(read(istiod, ztunnel)).toBe('ambient')
    expect(read(istiod)).toBe('sidecar')
    expect(read(remote)).toBe('sidecar')
    expect(read()).toBeUndefined()
    // The two-read form says the same.
    expect(parseClusterState(JSON.stringify(ns), JSON.stringify({ items: [istiod, ztunnel] })).dataPlane).toBe(
      'ambient'
    )
  })

  it('an overlay may name profile ambient under data-plane ambient (and only there)', () => {
    const overlay = 'spec: {profile: ambient, values: {profile: ambient}}'
    expect(parse({ 'data-plane': 'ambient', 'operator-overlay': overlay }).operatorOverlay).toMatchObject({
      spec: { profile: 'ambient' }
    })
    expect(() => parse({ 'operator-overlay': 'spec: {profile: ambient}' })).toThrow(
      /field "spec\.profile": is "ambient"; the action installs a sidecar multi-primary control plane/
    )
  })

  it('refuses a remote under data-plane ambient, naming the item and the ambient pages', () => {
    const clusters =
      '- {name: c1, network: n1}\n- {name: c2, network: n2}\n- {name: c3, network: n1, role: remote, primary: c1}'
    expect(() => parse({ 'data-plane': 'ambient' }, clusters)).toThrow(
      /^Input "clusters", item 3, field "role": "c3" is a remote, but data-plane "ambient" has no primary-remote/
    )
    expect(parse({}, clusters).clusters[2].role).toBe('remote')
  })
})
