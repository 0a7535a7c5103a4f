// End to end: admission webhooks whose backend is restarting. Until it is ready the API server rejects the writes those
// webhooks cover with a 500 InternalError, `Internal error occurred: failed calling webhook "<name>": failed to call
// webhook: Post "https://<service>.<namespace>.svc:443/…?timeout=10s": no endpoints available for service "<service>"`
// (the simulator's `webhook` fault, worded as k8s.io/apiserver's dispatcher does). The write passes a few seconds later,
// so the action retries it and says so.
//
// Which webhooks: Istio's own validate only *.istio.io kinds (validation.istio.io, istiod-default-validator) and inject
// Pods; that is the cross-network Gateway here. A Deployment or a Secret is only covered by a cluster's policy engine
// (e.g. Kyverno's validate.kyverno.svc-fail), which fails the same way while its pods restart.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>

const KYVERNO = {
  webhook: 'validate.kyverno.svc-fail',
  service: 'kyverno-svc',
  namespace: 'kyverno',
  path: '/validate/fail'
}
const kyvernoDown =
  'failed calling webhook "validate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/validate/fail?timeout=10s": no endpoints available for service "kyverno-svc"'
const istiodDown =
  'failed calling webhook "validation.istio.io": failed to call webhook: Post "https://istiod.istio-system.svc:443/validate?timeout=10s": no endpoints available for service "istiod"'
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** The log group of one finished step. */
const group = (r: Run, cluster: string, title: string): string => {
  const lines = r.stdout.split('\n')
  const start = lines.findIndex((l) => l.startsWith(`::group::✔ ${cluster} · ${title} (`))
  if (start < 0) return ''
  const end = lines.indexOf('::endgroup::', start)
  return lines.slice(start, end).join('\n')
}

describe('e2e webhooks: writes rejected while a webhook backend restarts are retried', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let r: Run

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    const [c1, c2] = sim.clusters
    // istioctl install of the control plane: its write of Deployment istio-system/istiod, a server-side apply (PATCH).
    c1.setFault({
      kind: 'webhook',
      count: 1,
      match: { method: 'PATCH', pathIncludes: '/apis/apps/v1/namespaces/istio-system/deployments/istiod?' },
      ...KYVERNO
    })
    // kubectl apply of cluster1's remote secret in cluster2: armed once cluster1's create-remote-secret has begun, long
    // after cluster2's own kubectl-applied secrets (cacerts), so the next one is the remote secret.
    let armed = false
    const arm = (e: any) => {
      if (
        armed ||
        e.object.kind !== 'Secret' ||
        e.object.metadata.name !== 'istio-reader-service-account-istio-remote-secret-token'
      )
        return
      armed = true
      c2.setFault({
        kind: 'webhook',
        count: 1,
        match: {
          method: 'POST',
          pathIncludes: '/api/v1/namespaces/istio-system/secrets?fieldManager=kubectl-client-side-apply'
        },
        ...KYVERNO
      })
    }
    c1.store.on('change', arm)
    // kubectl apply of the cross-network Gateway: Istio's own validating webhook, istiod not ready.
    c2.setFault({
      kind: 'webhook',
      count: 1,
      match: { method: 'POST', pathIncludes: '/namespaces/istio-system/gateways' }
    })
    r = await runAction({
      inputs: { clusters: sim.clustersInput(), kubeconfig: sim.kubeconfig(), 'istio-version': '1.30.3', ...sim.inputs },
      env: sim.env,
      runner
    })
    c1.store.off('change', arm)
  }, 180_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('succeeds: the mesh is built and verified', () => {
    if (r.exitCode !== 0) console.log(r.stdout)
    expect(r.exitCode).toBe(0)
    expect(r.outputs.verified).toBe('true')
    expect(errorAnnotations(r.stdout)).toEqual([])
    const c2 = sim.cluster('cluster2')
    expect(c2.store.get('v1', 'Secret', 'istio-system', 'istio-remote-secret-cluster1')).toBeTruthy()
    expect(c2.store.get('networking.istio.io/v1', 'Gateway', 'istio-system', 'cross-network-gateway')).toBeTruthy()
  })

  it('istioctl install: retried, the log naming the webhook as istioctl words the failed server-side apply', () => {
    const g = group(r, 'cluster1', 'control plane (istioctl install)')
    expect(g).toContain(
      `Error: failed to install manifests: failed to update resource with server-side apply for obj Deployment/istio-system/istiod: Internal error occurred: ${kyvernoDown}`
    )
    expect(g).toMatch(
      new RegExp(
        `^↻ transient failure of istioctl install -y -f - --readiness-timeout 5m0s --context cluster1 \\(Error: failed to install manifests: .* … ${esc(kyvernoDown)}\\); retry 2/4 in 1\\.0 s$`,
        'm'
      )
    )
  })

  it("kubectl apply of the remote secret: retried, the log naming the webhook as kubectl prints the API server's 500", () => {
    const g = group(r, 'cluster2', 'remote secrets of cluster1')
    const printed = `Error from server (InternalError): error when creating "STDIN": Internal error occurred: ${kyvernoDown}`
    expect(g).toContain(printed)
    expect(g).toMatch(
      new RegExp(
        `^↻ transient failure of kubectl --context cluster2 apply -f - \\(${esc(printed)}\\); retry 2/4 in 1\\.0 s$`,
        'm'
      )
    )
  })

  it("kubectl apply of the cross-network Gateway: retried through Istio's own webhook", () => {
    const g = group(r, 'cluster2', 'expose services (cross-network-gateway)')
    expect(g).toMatch(
      new RegExp(
        `^↻ transient failure of kubectl --context cluster2 apply -f - \\(Error from server \\(InternalError\\): error when creating "STDIN": Internal error occurred: ${esc(istiodDown)}\\); retry 2/4 in 1\\.0 s$`,
        'm'
      )
    )
  })

  it('retried nothing else', () => {
    expect(r.stdout.split('\n').filter((l) => l.startsWith('↻ '))).toHaveLength(3)
  })
})
