// The probes' pure parts (issue 14): the Job and Secret they run in, the parsing of what the pod prints, the
// classification by curl's exit codes and HTTP codes, and the words (message, cause and fix) and Checks.
import { describe, expect, it } from '@jest/globals'
import { PROBE_SCRIPT, probeObjects } from '../src/manifests/probe.js'
import { classifyApiServer, classifyGateway, parseProbeLog, probeResults } from '../src/probes/classify.js'
import { explainProbe, probeChecks } from '../src/probes/explain.js'
import { apiServerTargetFromRemoteSecret } from '../src/probes/targets.js'
import { ProbeResult } from '../src/probes/types.js'

const TOKEN = 'CANARY-token-0123456789abcdef'
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
const line = (...f: string[]) => ['probe', ...f].join('\t')

describe('probeObjects', () => {
  const objects = probeObjects({
    namespace: 'istio-multicluster-probe-abc123',
    image: 'docker.io/curlimages/curl:8.16.0',
    apiServers: [{ to: 'cluster2', url: 'https://10.0.0.2:6443', caPem: CA, token: TOKEN }],
    gateways: [{ to: 'cluster2', host: '192.0.2.2' }],
    deadlineSeconds: 120
  })
  const [ns, secret, job] = objects as any[]

  it('a namespace, a Secret and a Job, labelled as the probe', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/istio-multicluster-probe-abc123',
      'Secret/probe',
      'Job/probe'
    ])
    expect(ns.metadata.labels).toEqual({
      'app.kubernetes.io/name': 'istio-multicluster-probe',
      'app.kubernetes.io/managed-by': 'istio-multicluster-action'
    })
  })

  it('credentials only in the mounted Secret, never in the Job', () => {
    expect(JSON.stringify(job)).not.toContain(TOKEN)
    const data = Object.fromEntries(
      Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])
    )
    expect(data).toEqual({
      targets: 'api-server cluster2 https://10.0.0.2:6443\ngateway cluster2 192.0.2.2\n',
      'cluster2.ca.crt': CA,
      'cluster2.auth': `Authorization: Bearer ${TOKEN}\n`
    })
    const pod = job.spec.template.spec
    expect(pod.volumes).toEqual([{ name: 'probe', secret: { secretName: 'probe' } }])
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'probe', mountPath: '/etc/probe', readOnly: true }])
    expect(pod.automountServiceAccountToken).toBe(false)
    expect(pod.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false })
    expect(job.spec.template.metadata.labels['sidecar.istio.io/inject']).toBe('false')
  })

  it('a run-once Job that Kubernetes stops and removes even without the action', () => {
    expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 120, ttlSecondsAfterFinished: 600 })
    expect(job.spec.template.spec.restartPolicy).toBe('Never')
  })

  it('tells the script until when to retry a gateway (not a secret: an env var), 0 (once) by default', () => {
    expect(job.spec.template.spec.containers[0].env).toEqual([{ name: 'PROBE_RETRY_SECONDS', value: '0' }])
    const [, , retrying] = probeObjects({
      namespace: 'n',
      image: 'i',
      apiServers: [],
      gateways: [],
      deadlineSeconds: 1,
      retrySeconds: 90
    }) as any[]
    expect(retrying.spec.template.spec.containers[0].env).toEqual([{ name: 'PROBE_RETRY_SECONDS', value: '90' }])
  })

  it('the script reads the token from a file (-H @file) and prints nothing from /etc/probe', () => {
    expect(PROBE_SCRIPT.split('\n')[0]).toBe('# istio-multicluster-probe v2')
    expect(PROBE_SCRIPT).toContain('-H "@$D/$to.auth"')
    expect(PROBE_SCRIPT).not.toMatch(/cat "?\$D/)
  })
})

describe('parseProbeLog and the classification', () => {
  it('reads the tab-separated lines and the end marker, ignoring anything else', () => {
    const log = [
      'noise',
      line('api-server', 'c2', 'version', '7', '000', '0', 'curl: (7) Failed'),
      line('gateway', 'c3', 'connect', '35', '000', '12', ''),
      'probe\tdone'
    ].join('\n')
    expect(parseProbeLog(log)).toEqual({
      lines: [
        { target: 'api-server', to: 'c2', step: 'version', exit: 7, http: 0, seconds: 0, text: 'curl: (7) Failed' },
        { target: 'gateway', to: 'c3', step: 'connect', exit: 35, http: 0, seconds: 12, text: '' }
      ],
      done: true
    })
  })

  it('a gateway result carries the seconds after which it settled, per gateway', () => {
    const lines = parseProbeLog(
      [
        line('gateway', 'c2', 'connect', '35', '000', '1', ''),
        line('gateway', 'c3', 'connect', '35', '000', '7', '')
      ].join('\n')
    ).lines
    const results = probeResults(
      'c1',
      {
        apiServers: [],
        gateways: [
          { to: 'c2', host: '192.0.2.2' },
          { to: 'c3', host: '192.0.2.3' }
        ]
      },
      lines,
      'missing'
    )
    expect(results.map((r) => [r.to, r.status, r.seconds])).toEqual([
      ['c2', 'reachable', 1],
      ['c3', 'reachable', 7]
    ])
  })

  const api = (exit: number, http: number, step = 'version', text = '') => [
    { target: 'api-server' as const, to: 'c2', step, exit, http, seconds: 0, text }
  ]
  it.each([
    [6, 0, 'unresolvable'],
    [7, 0, 'refused'],
    [28, 0, 'timeout'],
    [60, 0, 'tls-unknown-authority'],
    [0, 401, 'unauthorized'],
    [0, 403, 'forbidden'],
    [0, 200, 'ok'],
    [0, 500, 'error'],
    [52, 0, 'error']
  ])('API server: curl exit %i, HTTP %i → %s', (exit, http, status) => {
    expect(classifyApiServer(api(exit, http)).status).toBe(status)
  })

  it('the first failing request decides: a 403 on the list of pods after /version and others answered', () => {
    const lines = [...api(0, 200), ...api(0, 200, 'namespaces'), ...api(0, 403, 'pods', '{"reason":"Forbidden"}')]
    expect(classifyApiServer(lines)).toEqual({
      status: 'forbidden',
      detail: 'list pods answered 403 Forbidden: {"reason":"Forbidden"}'
    })
  })

  const gw = (exit: number, http = 0) => [
    { target: 'gateway' as const, to: 'c2', step: 'connect', exit, http, seconds: 0, text: '' }
  ]
  it.each([
    [6, 0, 'unresolvable'],
    [7, 0, 'refused'],
    [28, 0, 'timeout'],
    [35, 0, 'reachable'],
    [56, 0, 'reachable'],
    [0, 502, 'not-passthrough'],
    [0, 404, 'not-passthrough'],
    [3, 0, 'error']
  ])('gateway: curl exit %i, HTTP %i → %s', (exit, http, status) => {
    expect(classifyGateway(gw(exit, http)).status).toBe(status)
  })

  it('a target the log does not mention is an error with the reason given', () => {
    const results = probeResults(
      'c1',
      { apiServers: [{ to: 'c2', url: 'https://x:6443' }], gateways: [{ to: 'c2', host: 'gw.example' }] },
      [],
      'the probe pod did not finish'
    )
    expect(results).toEqual([
      {
        from: 'c1',
        to: 'c2',
        target: 'api-server',
        address: 'https://x:6443',
        status: 'error',
        detail: 'the probe pod did not finish'
      },
      {
        from: 'c1',
        to: 'c2',
        target: 'gateway',
        address: 'gw.example:15443',
        status: 'error',
        detail: 'the probe pod did not finish'
      }
    ])
  })
})

describe('explainProbe and probeChecks', () => {
  const r = (target: ProbeResult['target'], status: ProbeResult['status'], address: string): ProbeResult => ({
    from: 'cluster1',
    to: 'cluster2',
    target,
    address,
    status,
    detail: 'seen'
  })

  it("the issue's example, word for word", () => {
    expect(explainProbe(r('api-server', 'refused', 'https://127.0.0.1:6443'))).toEqual({
      ok: false,
      message:
        "cluster1's istiod cannot reach cluster2's API server https://127.0.0.1:6443: connection refused from inside cluster1",
      hint: 'it is a loopback address: set api-server for cluster2'
    })
  })

  it('a refused address that is no loopback asks for the address other clusters reach', () => {
    expect(explainProbe(r('api-server', 'refused', 'https://10.0.0.2:6443')).hint).toMatch(
      /^nothing listens at 10\.0\.0\.2:6443 as seen from cluster1 .*: set api-server for cluster2/
    )
  })

  it.each([
    ['unauthorized', /401 Unauthorized/, /recreate cluster2's remote secret/],
    ['forbidden', /403 Forbidden/, /istio-reader-clusterrole/],
    ['timeout', /timed out/, /firewall/],
    ['unresolvable', /does not resolve/, /resolve/],
    ['tls-unknown-authority', /not signed by the CA in cluster2's remote secret/, /TLS-intercepting proxy/]
  ] as const)('API server %s: message and hint', (status, message, hint) => {
    const e = explainProbe(r('api-server', status, 'https://10.0.0.2:6443'))
    expect(e.message).toMatch(message)
    expect(e.hint).toMatch(hint)
  })

  it('stable ids, pass / fail / warn', () => {
    const checks = probeChecks([
      r('api-server', 'ok', 'https://10.0.0.2:6443'),
      r('gateway', 'not-passthrough', '192.0.2.2:15443'),
      r('gateway', 'error', '192.0.2.2:15443')
    ])
    expect(checks.map((c) => [c.id, c.status, c.cluster])).toEqual([
      ['api-server-reachable/cluster1/cluster2', 'pass', 'cluster1'],
      ['gateway-reachable/cluster1/cluster2', 'fail', 'cluster1'],
      ['gateway-reachable/cluster1/cluster2', 'warn', 'cluster1']
    ])
    expect(checks[0].hint).toBeUndefined()
    expect(checks[1].message).toBe(
      "cluster1 cannot use cluster2's east-west gateway 192.0.2.2:15443: something there terminates TLS and answers HTTP from inside cluster1"
    )
    expect(checks[1].hint).toMatch(/L4 \(network\) load balancer/)
  })
})

describe('apiServerTargetFromRemoteSecret', () => {
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cluster2',
    '  cluster:',
    '    server: https://10.0.0.2:6443',
    `    certificate-authority-data: ${Buffer.from(CA).toString('base64')}`,
    'contexts:',
    '- name: cluster2',
    '  context: {cluster: cluster2, user: cluster2}',
    'current-context: cluster2',
    'users:',
    '- name: cluster2',
    `  user: {token: ${TOKEN}}`
  ].join('\n')
  const secret = (data: string) =>
    [
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: istio-remote-secret-cluster2',
      '  annotations: {networking.istio.io/cluster: cluster2}',
      data
    ].join('\n')

  it('from data (as the action applies it) and from stringData (as istioctl prints it)', () => {
    const want = { to: 'cluster2', url: 'https://10.0.0.2:6443', caPem: CA, token: TOKEN }
    expect(
      apiServerTargetFromRemoteSecret(secret(`data: {cluster2: ${Buffer.from(kubeconfig).toString('base64')}}`))
    ).toEqual(want)
    expect(apiServerTargetFromRemoteSecret(secret(`stringData:\n  cluster2: ${JSON.stringify(kubeconfig)}`))).toEqual(
      want
    )
  })

  it('undefined for a secret without a kubeconfig', () => {
    expect(apiServerTargetFromRemoteSecret(secret('data: {}'))).toBeUndefined()
    expect(apiServerTargetFromRemoteSecret('not: [yaml')).toBeUndefined()
  })
})
