// Units behind the hardening e2e tests: which failures count as transient, what a failed command's error says, the
// request timeout kubectl gets, and how a stopping action refuses new commands (e2e-faults.test.ts runs them end to end).
import { describe, expect, it } from '@jest/globals'
import { CancelledError, StepError } from '../src/errors.js'
import { ProcessResult, isStopping, pause, runProcess, terminateAll } from '../src/exec.js'
import {
  ClusterTools,
  CommandError,
  DEFAULT_REQUEST_TIMEOUT,
  displayCommand,
  kubectlRequestTimeout
} from '../src/tools.js'
import { isTransient, transientReason } from '../src/transient.js'

const result = (stderr: string, extra: Partial<ProcessResult> = {}): ProcessResult => ({
  exitCode: 1,
  signal: null,
  stdout: '',
  stderr,
  durationMs: 5,
  timedOut: false,
  stoppedEarly: false,
  ...extra
})

const KLOG =
  'E1126 03:24:22.772132   29540 memcache.go:265] "Unhandled Error" err="couldn\'t get current server API group list: Get \\"https://127.0.0.1:40823/api?timeout=32s\\": dial tcp 127.0.0.1:40823: connect: connection refused"'

describe('transient failures', () => {
  it.each([
    [
      '503',
      'Error from server (ServiceUnavailable): error when creating "STDIN": the server is currently unable to handle the request'
    ],
    [
      '504 as kubectl prints it',
      'Error from server (Timeout): the server was unable to return a response in the time allotted, but may still be processing the request (get serviceaccounts istio-reader-service-account)'
    ],
    [
      '504 as istioctl prints it',
      'Error: the server was unable to return a response in the time allotted, but may still be processing the request'
    ],
    [
      'a reset connection',
      'error: error when creating "STDIN": Post "https://127.0.0.1:36757/api/v1/namespaces?timeout=30s": EOF'
    ],
    [
      "kubectl's request timeout",
      'error: error when creating "STDIN": Post "https://127.0.0.1:40431/api/v1/namespaces?fieldManager=kubectl-client-side-apply&timeout=3s": context deadline exceeded'
    ],
    [
      'an unreachable server',
      'The connection to the server 127.0.0.1:40823 was refused - did you specify the right host or port?'
    ]
  ])('%s is transient', (_name, stderr) => expect(isTransient(stderr)).toBe(true))

  it.each([
    [
      'an expired token',
      'error: You must be logged in to the server (the server has asked for the client to provide credentials)'
    ],
    [
      'RBAC',
      'Error from server (Forbidden): deployments.apps "istiod" is forbidden: User "ci" cannot get resource "deployments"'
    ],
    [
      "istioctl's readiness timeout",
      'Error: failed to install manifests: failed to wait for resource: resources not ready after 5m0s: context deadline exceeded'
    ]
  ])('%s is not', (_name, stderr) => expect(isTransient(stderr)).toBe(false))

  // An admission webhook while its backend restarts, as the API server words it (a 500 InternalError whose message is
  // "Internal error occurred: " + ErrCallingWebhook), as kubectl and istioctl print it.
  const ISTIOD_WEBHOOK =
    'failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s"'
  it.each([
    [
      'kubectl apply, no endpoints (endpoint routing)',
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: ${ISTIOD_WEBHOOK}: no endpoints available for service "istiod"`
    ],
    [
      'kubectl apply of an existing object (a patch)',
      `Error from server (InternalError): error when applying patch:\n{"metadata":{}}\nto:\nResource: "networking.istio.io/v1, Resource=gateways", GroupVersionKind: "networking.istio.io/v1, Kind=Gateway"\nName: "cross-network-gateway", Namespace: "istio-system"\nfor: "STDIN": error when patching "STDIN": Internal error occurred: ${ISTIOD_WEBHOOK}: no endpoints available for service "istiod"`
    ],
    [
      'istioctl install (server-side apply)',
      `Error: failed to install manifests: failed to update resource with server-side apply for obj Deployment/istio-system/istiod: Internal error occurred: failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": no endpoints available for service "kyverno-svc"`
    ],
    [
      'ClusterIP routing: connection refused',
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: ${ISTIOD_WEBHOOK}: dial tcp 10.96.0.12:443: connect: connection refused`
    ],
    [
      'a webhook that hangs: its deadline',
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: ${ISTIOD_WEBHOOK}: context deadline exceeded`
    ]
  ])('a webhook whose backend is down (%s) is transient', (_name, stderr) => expect(isTransient(stderr)).toBe(true))

  it.each([
    [
      'a webhook that denies the request',
      'Error from server (BadRequest): error when creating "STDIN": admission webhook "validation.istio.io" denied the request: configuration is invalid: port name must be set'
    ],
    [
      'a webhook whose certificate is not trusted',
      `Error from server (InternalError): error when creating "STDIN": Internal error occurred: ${ISTIOD_WEBHOOK}: tls: failed to verify certificate: x509: certificate signed by unknown authority`
    ],
    [
      'a readiness timeout of 5m',
      'Error: failed to install manifests: failed to wait for resource: resources not ready after 5m0s: context deadline exceeded\n  Deployment/istio-system/istiod'
    ],
    [
      // The pod's reason may quote a registry's 503 or a refused connection: retrying would wait the whole timeout again.
      'a readiness timeout whose pod reason mentions a 503',
      'Error: failed to install manifests: failed to wait for resource: resources not ready after 5m0s: context deadline exceeded\n  Deployment/istio-system/istiod (container failed to start: ImagePullBackOff: Back-off pulling image "registry.istio.io/release/pilot:1.30.3": ErrImagePull: unexpected status from HEAD request: 503 Service Unavailable)'
    ]
  ])('%s is not', (_name, stderr) => expect(isTransient(stderr)).toBe(false))

  it('names the webhook in the reason, even when the line is long', () => {
    const line = `Error: failed to install manifests: failed to update resource with server-side apply for obj Deployment/istio-system/istiod: Internal error occurred: ${ISTIOD_WEBHOOK}: no endpoints available for service "istiod"`
    expect(line.length).toBeGreaterThan(220)
    expect(transientReason(`✘ Istiod encountered an error: …\n${line}\n`)).toBe(
      `Error: failed to install manifests: failed to update resource with server-side apply for … ${ISTIOD_WEBHOOK}: no endpoints available for service "istiod"`
    )
  })

  it("names kubectl's own error line as the reason, not klog's repeats, shortened in the middle", () => {
    expect(
      transientReason(
        `${KLOG}\n${KLOG}\nThe connection to the server 127.0.0.1:40823 was refused - did you specify the right host or port?\n`
      )
    ).toBe('The connection to the server 127.0.0.1:40823 was refused - did you specify the right host or port?')
    const long = `Error: failed to install manifests: ${'x'.repeat(300)}: read: connection reset by peer`
    const reason = transientReason(long)
    expect(reason.length).toBeLessThan(230)
    expect(reason).toMatch(/^Error: failed to install manifests: x+ … x+: read: connection reset by peer$/)
  })
})

describe('a failed command', () => {
  it('says what ran, how it ended and the end of its stderr (without klog noise), also when no step wraps it', () => {
    const e = new CommandError(
      'kubectl --context c2 get namespace istio-system',
      result(`${KLOG}\nerror: You must be logged in to the server (Unauthorized)\n`),
      1
    )
    expect(e.message).toBe(
      'kubectl --context c2 get namespace istio-system exited with code 1\nstderr (last lines):\nerror: You must be logged in to the server (Unauthorized)'
    )
    expect(e.headline).toBe('kubectl --context c2 get namespace istio-system exited with code 1')
  })

  it('as a step error, shows the stderr tail once, after the command', () => {
    const e = new CommandError('istioctl install -y -f - --context c2', result('Error: boom\n'), 4)
    const s = new StepError('c2', 'control plane', e.message, e.command, e.stderrTail)
    expect(s.message).toBe(
      'c2 · control plane: istioctl install -y -f - --context c2 exited with code 1 (after 4 attempts)\ncommand: istioctl install -y -f - --context c2\nstderr (last lines):\nError: boom'
    )
  })
})

describe("kubectl's request timeout", () => {
  it('is given to commands that make short requests, not to watches or streams', () => {
    expect(kubectlRequestTimeout(['apply', '-f', '-'], {})).toEqual([`--request-timeout=${DEFAULT_REQUEST_TIMEOUT}`])
    expect(kubectlRequestTimeout(['get', 'secret', 'cacerts', '-o', 'json'], {})).toEqual([
      `--request-timeout=${DEFAULT_REQUEST_TIMEOUT}`
    ])
    expect(kubectlRequestTimeout(['get', 'service', 'x', '--watch'], {})).toEqual([])
    expect(kubectlRequestTimeout(['exec', 'deploy/curl', '--', 'curl'], {})).toEqual([])
    expect(kubectlRequestTimeout(['rollout', 'status', 'deployment'], {})).toEqual([])
    expect(kubectlRequestTimeout(['wait', '--for=condition=Ready', 'pod'], {})).toEqual([])
  })

  it('can be tuned with ISTIO_MULTICLUSTER_REQUEST_TIMEOUT; a value kubectl would refuse is ignored', () => {
    expect(kubectlRequestTimeout(['apply'], { ISTIO_MULTICLUSTER_REQUEST_TIMEOUT: '5s' })).toEqual([
      '--request-timeout=5s'
    ])
    expect(kubectlRequestTimeout(['apply'], { ISTIO_MULTICLUSTER_REQUEST_TIMEOUT: 'soon' })).toEqual([
      `--request-timeout=${DEFAULT_REQUEST_TIMEOUT}`
    ])
  })

  it('is not shown in logged commands', () => {
    expect(
      displayCommand('kubectl', [
        '--kubeconfig',
        '/x/kubeconfig',
        '--context',
        'c1',
        '--request-timeout=30s',
        'apply',
        '-f',
        '-'
      ])
    ).toBe('kubectl --context c1 apply -f -')
  })
})

// Last in this file: terminateAll() stops the module for good, as it does the action.
describe('when the action is stopping', () => {
  it('ends pending backoffs at once, starts no command, and retries nothing', async () => {
    const t0 = Date.now()
    const slept = pause(10_000)
    expect(isStopping()).toBe(false)
    terminateAll()
    await slept
    expect(Date.now() - t0).toBeLessThan(1000)
    const r = await runProcess('sh', ['-c', 'echo started'])
    expect(r).toMatchObject({ exitCode: null, stdout: '', stderr: 'sh: not started: the action is stopping\n' })
    const lines: string[] = []
    const tools = new ClusterTools(
      '/nonexistent/kubeconfig',
      '/nonexistent/istioctl',
      { attempts: 4, baseDelayMs: 1000 },
      {}
    )
    await expect(tools.kubectl('c1', ['get', 'ns'], (l) => lines.push(l), { retry: true })).rejects.toBeInstanceOf(
      CancelledError
    )
    expect(lines).toEqual([])
  })
})
