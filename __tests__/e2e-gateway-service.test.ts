// End to end: the load balancer first. Each cluster gets the east-west gateway's Service right after its namespace, so
// the (simulated) cloud provisions its address while istiod installs; the gateway install takes it over without
// re-creating it; uninstall removes it; a run whose install fails removes what it created, and says so.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>
type Cluster = Sim['clusters'][number]

const NS = 'istio-system'
const GATEWAY = 'istio-eastwestgateway'
const ANNOTATION = { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' }
const service = (c: Cluster) => c.store.get('v1', 'Service', NS, GATEWAY)
const addressOf = (svc: any): string | undefined => svc?.status?.loadBalancer?.ingress?.[0]?.ip
const managers = (svc: any) => (svc.metadata.managedFields ?? []).map((e: any) => `${e.manager}/${e.operation}`)

/** What the store saw happen to the gateway's Service and to istiod, in order, with times. */
function watchCluster(c: Cluster) {
  const seen = {
    created: [] as { uid: string; annotations?: Record<string, string> }[],
    address: undefined as { uid: string; ip: string; resourceVersion: string; at: number } | undefined,
    istiodAt: undefined as number | undefined,
    deleted: 0
  }
  c.store.on('change', (e: any) => {
    const o = e.object
    if (o.kind === 'Deployment' && o.metadata.name === 'istiod' && e.type === 'ADDED') seen.istiodAt ??= Date.now()
    if (o.kind !== 'Service' || o.metadata.name !== GATEWAY) return
    if (e.type === 'ADDED') seen.created.push({ uid: o.metadata.uid, annotations: o.metadata.annotations })
    if (e.type === 'DELETED') seen.deleted++
    const ip = addressOf(o)
    if (e.type !== 'DELETED' && ip && !seen.address)
      seen.address = { uid: o.metadata.uid, ip, resourceVersion: o.metadata.resourceVersion, at: Date.now() }
  })
  return seen
}

function setup() {
  const ctx = {} as { sim: Sim; runner: ReturnType<typeof makeRunner> }
  beforeAll(async () => {
    ctx.sim = await startSimulation({
      clusters: [
        // cluster1's installs are slow (as on a real cluster); its load balancer takes 300 ms.
        { name: 'cluster1', lb: { mode: 'ip', delayMs: 300 }, istioctlDelays: { install: 2500 } },
        { name: 'cluster2' }
      ]
    })
    ctx.runner = makeRunner()
  })
  afterAll(async () => {
    await ctx.sim?.stop()
    ctx.runner?.cleanup()
  })
  const run = (extra: Record<string, string> = {}) =>
    runAction({
      inputs: {
        clusters: ctx.sim.clustersInput(),
        kubeconfig: ctx.sim.kubeconfig(),
        'istio-version': '1.30.3',
        verify: 'none',
        'gateway-service-annotations': Object.entries(ANNOTATION)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
        ...ctx.sim.inputs,
        ...extra
      },
      env: ctx.sim.env,
      runner: ctx.runner
    })
  return { ctx, run }
}

const ok = (r: Run) => {
  if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
  expect(r.exitCode).toBe(0)
}

describe('e2e: the load balancer first', () => {
  const { ctx, run } = setup()

  it('provisions the address before the control plane is applied, and the install keeps that Service (same uid, same address); a re-run and plan leave it unchanged; uninstall removes it', async () => {
    const [c1, c2] = ctx.sim.clusters
    const seen = watchCluster(c1)
    const first = await run()
    ok(first)

    // (a) One Service, created once, with the annotations some clouds read only at creation.
    expect(seen.created).toEqual([{ uid: expect.any(String), annotations: ANNOTATION }])
    expect(seen.deleted).toBe(0)
    // Its address came while istioctl was still about to apply the control plane (the install waits 2.5 s first).
    expect(seen.address).toBeDefined()
    expect(seen.istiodAt).toBeDefined()
    expect(seen.address!.at).toBeLessThan(seen.istiodAt!)
    const svc = service(c1)
    expect(svc.metadata.uid).toBe(seen.address!.uid)
    expect(addressOf(svc)).toBe(seen.address!.ip)
    expect(first.outputs['cluster1-gateway-address']).toBe(seen.address!.ip)
    // The gateway install applied exactly what was there, as the same field manager: not even a resourceVersion.
    expect(svc.metadata.resourceVersion).toBe(seen.address!.resourceVersion)
    expect(managers(svc)).toEqual(['istio-operator/Apply'])
    expect(svc.metadata.labels).toMatchObject({
      'operator.istio.io/component': 'IngressGateways',
      'install.operator.istio.io/owning-resource': 'eastwest',
      'operator.istio.io/version': '1.30.3'
    })
    expect(service(c2).metadata.annotations).toEqual(ANNOTATION)
    // The cleanup saw the gateway installed and kept the Service.
    expect(first.stdout).toContain('[cluster1/remove-gateway-service]')
    expect(first.stdout).not.toMatch(/removed service istio-eastwestgateway/)

    // (d) A re-run: nothing new for the load balancer (no apply, no cleanup), the Service untouched.
    const before = { uid: svc.metadata.uid, rv: svc.metadata.resourceVersion, ip: addressOf(svc) }
    const again = await run()
    ok(again)
    const after = service(c1)
    expect({ uid: after.metadata.uid, rv: after.metadata.resourceVersion, ip: addressOf(after) }).toEqual(before)
    expect(again.stdout).toContain('unchanged: istio-eastwestgateway exists')
    expect(again.stdout).not.toContain('[cluster1/remove-gateway-service]')
    expect(again.outputs['cluster1-gateway-address']).toBe(before.ip)

    const plan = await run({ mode: 'plan' })
    ok(plan)
    const planned = JSON.parse(plan.outputs.plan).clusters[0].actions.find((a: any) => a.step === 'gateway-service')
    expect(planned.does).toMatch(/^unchanged/)

    // (b) mode: uninstall removes it (istioctl uninstall --purge selects it by its component label).
    ok(await run({ mode: 'uninstall' }))
    expect(service(c1)).toBeUndefined()
    expect(service(c2)).toBeUndefined()

    // And on the empty cluster, mode: plan says what a first install does.
    const fresh = await run({ mode: 'plan' })
    const todo = JSON.parse(fresh.outputs.plan).clusters[0].actions.find((a: any) => a.step === 'gateway-service')
    expect(todo.does).toMatch(/^create .* so the cloud starts provisioning its load balancer/)
  })
})

describe('e2e: a run that fails before the gateway install', () => {
  const { ctx, run } = setup()
  const FAILURE =
    'failed to install manifests: failed to update resource with server-side apply for obj Deployment/istio-system/istiod: Deployment.apps "istiod" is invalid: spec.template.spec.containers[0].image: Required value'

  it('removes the Service (and its load balancer) it created, and says so; when that fails, the error and the summary name it; uninstall still removes it', async () => {
    const [c1, c2] = ctx.sim.clusters
    const seen = watchCluster(c1)
    c1.setFault({ kind: 'istioctl', op: 'install', times: 'always', message: FAILURE })
    const failed = await run()
    expect(failed.exitCode).toBe(1)
    // (c) It existed and got its address (billed), then went: nothing left behind in cluster1.
    expect(seen.created).toHaveLength(1)
    expect(seen.address).toBeDefined()
    expect(seen.deleted).toBe(1)
    expect(service(c1)).toBeUndefined()
    const said =
      'removed service istio-eastwestgateway in istio-system and its load balancer: the east-west gateway install did not succeed'
    expect(failed.stdout).toContain(`::warning::cluster1: ${said}`)
    expect(failed.summary).toContain(`> cluster1: ${said}`)
    // cluster2 installed: its Service is istioctl's now, and stays.
    expect(managers(service(c2))).toEqual(['istio-operator/Apply'])
    expect(failed.stdout).not.toContain('cluster2: removed service')

    // The same, but the removal is refused: the run's error and the summary name the Service and the cluster.
    c1.setFault({ kind: 'forbid', match: { method: 'DELETE', pathIncludes: `/services/${GATEWAY}` } })
    const stuck = await run()
    expect(stuck.exitCode).toBe(1)
    expect(service(c1)).toBeDefined()
    const named =
      'cluster1 · remove the istio-eastwestgateway Service unless the gateway install succeeded: service istio-eastwestgateway in istio-system is still there, and so is its load balancer (billed): the east-west gateway install did not succeed, and deleting it failed'
    expect(stuck.summary).toContain(named)
    expect(stuck.stdout).toContain(named)
    expect(stuck.summary).toContain('kubectl --context cluster1 -n istio-system delete service istio-eastwestgateway')

    // istioctl never installed it, yet it carries istioctl's labels: uninstall --purge removes it.
    c1.clearFaults()
    ok(await run({ mode: 'uninstall' }))
    expect(service(c1)).toBeUndefined()
  })
})

describe('e2e: a run cancelled before the gateway install', () => {
  const { ctx } = setup()

  it('names the load balancer it leaves behind, in the error and the summary, with the command that removes it', async () => {
    const c1 = ctx.sim.clusters[0]
    let signalled = false
    const r = await runAction({
      inputs: {
        clusters: ctx.sim.clustersInput(),
        kubeconfig: ctx.sim.kubeconfig(),
        'istio-version': '1.30.3',
        verify: 'none',
        ...ctx.sim.inputs
      },
      env: ctx.sim.env,
      runner: ctx.runner,
      timeoutMs: 60_000,
      // The runner's cancel: SIGINT once cluster1's early Service exists (its control plane installs for 2.5 s more).
      onSpawn: (child: any) => {
        const timer = setInterval(() => {
          if (!service(c1)) return
          clearInterval(timer)
          signalled = true
          child.kill('SIGINT')
        }, 50)
        child.on('exit', () => clearInterval(timer))
      }
    })
    expect(signalled).toBe(true)
    expect(r.exitCode).not.toBe(0)
    expect(service(c1)).toBeDefined()
    const command = 'kubectl --context cluster1 -n istio-system delete service istio-eastwestgateway'
    expect(r.stdout).toMatch(
      /::error::Cancelled: .* Left behind: the istio-eastwestgateway Service \(a billed load balancer\) in (cluster1|cluster1, cluster2);/
    )
    expect(r.stdout).toContain(command)
    expect(r.summary).toContain('Left behind: the istio-eastwestgateway Service (a billed load balancer)')
    expect(r.summary).toContain(`\`${command}\``)
  }, 90_000)
})
