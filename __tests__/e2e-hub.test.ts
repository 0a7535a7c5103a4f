// End to end: where Istio's images come from. Istio 1.30.x renders every image from registry.istio.io/release, which
// (with gcr.io/istio-release) was decommissioned in December 2026; the simulated nodes cannot pull from either, as real
// ones cannot now. The action pins the hub (`hub`, default docker.io/istio), warns about workloads still on the retired
// registries, and when istioctl's readiness wait fails it reports why each pod is not ready.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { startSimulation } from '../test/sim/index.js'
import { RETIRED_REGISTRIES } from '../test/sim/apiserver/index.js'
import { makeRunner, runAction } from '../test/harness/action.js'
import { errorAnnotations, unescapeCommand } from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Run = Awaited<ReturnType<typeof runAction>>
type Cluster = Sim['clusters'][number]

/** Every container image of the Deployments, DaemonSets and Pods in a cluster's istio-system, as `Kind/name: image`. */
function istioImages(c: Cluster): { where: string; image: string }[] {
  const out: { where: string; image: string }[] = []
  const add = (where: string, spec: any) => {
    for (const k of ['initContainers', 'containers'])
      for (const ctr of spec?.[k] ?? []) out.push({ where: `${where} ${ctr.name}`, image: ctr.image })
  }
  for (const d of c.store.list('apps/v1', 'Deployment', 'istio-system'))
    add(`Deployment/${d.metadata.name}`, d.spec.template.spec)
  for (const d of c.store.list('apps/v1', 'DaemonSet', 'istio-system'))
    add(`DaemonSet/${d.metadata.name}`, d.spec.template.spec)
  for (const p of c.store.list('v1', 'Pod', 'istio-system')) add(`Pod/${p.metadata.name}`, p.spec)
  return out
}

/** Images outside `hub`. A Deployment's `image: auto` is the injection template's placeholder: its pods show what runs. */
const outside = (c: Cluster, hub: string) =>
  istioImages(c).filter(
    ({ where, image }) => !image.startsWith(`${hub}/`) && !(image === 'auto' && where.startsWith('Deployment/'))
  )

const warnings = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::warning'))
    .map((l) => unescapeCommand(l.replace(/^::warning[^:]*::/, '')))

const ok = (r: Run) => {
  if (r.exitCode !== 0) console.log(r.stdout, r.stderr)
  expect(r.exitCode).toBe(0)
}

describe('e2e: Istio 1.30 with default inputs, and with a mirror', () => {
  let sim: Sim
  let mirrored: Sim
  let runner: ReturnType<typeof makeRunner>
  let run: Run
  let mirror: Run

  beforeAll(async () => {
    ;[sim, mirrored] = await Promise.all([
      startSimulation(),
      startSimulation({ clusters: [{ name: 'east' }, { name: 'west' }] })
    ])
    runner = makeRunner()
    const inputs = (s: Sim, extra: Record<string, string> = {}) => ({
      clusters: s.clustersInput(),
      kubeconfig: s.kubeconfig(),
      ...s.inputs,
      ...extra
    })
    run = await runAction({ inputs: inputs(sim, { 'istio-version': '1.30' }), env: sim.env, runner })
    mirror = await runAction({
      inputs: inputs(mirrored, { 'istio-version': '1.30.2', hub: 'my-mirror.example/istio' }),
      env: mirrored.env,
      runner
    })
  }, 600_000)

  afterAll(async () => {
    await Promise.all([sim?.stop(), mirrored?.stop()])
    runner?.cleanup()
  })

  it('1.30.3 with default inputs: the mesh comes up, and no Istio pod, deployment or daemonset has an image outside docker.io/istio', () => {
    ok(run)
    expect(run.outputs['istio-version']).toBe('1.30.3')
    for (const c of sim.clusters) {
      expect(outside(c, 'docker.io/istio')).toEqual([])
      expect(istioImages(c).filter((i) => i.where.startsWith('Pod/')).length).toBeGreaterThanOrEqual(3) // istiod, ingress, east-west
      const values = JSON.parse(c.store.get('v1', 'ConfigMap', 'istio-system', 'istio-sidecar-injector').data.values)
      expect(values.global.hub).toBe('docker.io/istio')
    }
    // Nothing was on a retired registry before: no warning about it.
    expect(warnings(run.stdout).filter((w) => /retired/.test(w))).toEqual([])
    // Every istioctl install carried the readiness timeout explicitly.
    expect(run.stdout).toMatch(/^\$ istioctl install -y -f - --readiness-timeout 5m0s --context cluster1 <<stdin$/m)
  })

  it('hub: my-mirror.example/istio: every Istio image is under it, injected gateways included', () => {
    ok(mirror)
    for (const c of mirrored.clusters) {
      expect(outside(c, 'my-mirror.example/istio')).toEqual([])
      const ew = c.store
        .list('v1', 'Pod', 'istio-system')
        .filter((p: any) => p.metadata.name.startsWith('istio-eastwestgateway-'))
      expect(ew.map((p: any) => p.spec.containers[0].image)).toEqual(['my-mirror.example/istio/proxyv2:1.30.2'])
    }
  })
})

describe('e2e: a mesh installed before the registries were retired', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let before: Run
  let plan: Run
  let install: Run
  let outsideBefore: { where: string; image: string }[]

  beforeAll(async () => {
    // Before December 2026: registry.istio.io/release still served 1.30.3's images (its default hub then).
    sim = await startSimulation({
      clusters: [
        { name: 'cluster1', unpullableRegistries: [] },
        { name: 'cluster2', unpullableRegistries: [] }
      ]
    })
    runner = makeRunner()
    const inputs = (extra: Record<string, string>) => ({
      clusters: sim.clustersInput(),
      kubeconfig: sim.kubeconfig(),
      'istio-version': '1.30.3',
      ...sim.inputs,
      ...extra
    })
    before = await runAction({ inputs: inputs({ hub: 'registry.istio.io/release' }), env: sim.env, runner })
    outsideBefore = sim.clusters.flatMap((c) => outside(c, 'registry.istio.io/release'))
    // Now the registries are gone; the pods that run keep their images (they are on the nodes).
    for (const c of sim.clusters) c.setUnpullableRegistries(RETIRED_REGISTRIES)
    plan = await runAction({ inputs: inputs({ mode: 'plan' }), env: sim.env, runner })
    install = await runAction({ inputs: inputs({}), env: sim.env, runner })
  }, 480_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it('the mesh ran from registry.istio.io/release', () => {
    ok(before)
    expect(outsideBefore).toEqual([])
    expect(warnings(before.stdout)).toContainEqual(
      expect.stringMatching(/^hub is registry\.istio\.io\/release, a registry Istio retired/)
    )
  })

  it('mode: plan warns about every Istio workload still on the retired registry, naming cluster, workload and image', () => {
    ok(plan)
    const w = warnings(plan.stdout)
    for (const c of sim.clusters) {
      for (const [name, image] of [
        ['istiod', 'pilot'],
        ['istio-ingressgateway', 'proxyv2']
      ])
        expect(w).toContainEqual(
          expect.stringMatching(
            new RegExp(
              `^${c.name}: Deployment istio-system/${name} runs registry\\.istio\\.io/release/${image}:1\\.30\\.3, from a registry Istio retired in December 2026 \\(registry\\.istio\\.io/release\\); install moves it to hub docker\\.io/istio\\.$`
            )
          )
        )
      // The east-west gateway's image was injected into its pods: install does not change its template.
      expect(w).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^${c.name}: Deployment istio-system/istio-eastwestgateway runs registry\\.istio\\.io/release/proxyv2:1\\.30\\.3 \\(injected into pod istio-eastwestgateway-\\S+\\).*install does not restart it: after install, run kubectl rollout restart deployment/istio-eastwestgateway -n istio-system`
          )
        )
      )
    }
    expect(w.filter((x) => /retired/.test(x))).toHaveLength(6)
    // Plan mode only reads.
    expect(errorAnnotations(plan.stdout)).toEqual([])
  })

  it('install warns the same way on its first read, moves the control plane to docker.io/istio, and the summary says what stays', () => {
    ok(install)
    const w = warnings(install.stdout).filter((x) => /retired/.test(x))
    expect(w).toHaveLength(6)
    for (const c of sim.clusters) {
      for (const name of ['istiod', 'istio-ingressgateway']) {
        const d = c.store.get('apps/v1', 'Deployment', 'istio-system', name)
        expect(d.spec.template.spec.containers[0].image).toMatch(/^docker\.io\/istio\//)
        expect(d.status.readyReplicas).toBe(1)
      }
      // The injected east-west gateway keeps its old image until its pods restart, as the warning said.
      const ew = c.store
        .list('v1', 'Pod', 'istio-system')
        .filter((p: any) => p.metadata.name.startsWith('istio-eastwestgateway-'))
      expect(ew.map((p: any) => p.spec.containers[0].image)).toEqual(['registry.istio.io/release/proxyv2:1.30.3'])
    }
    expect(install.summary).toContain('registry.istio.io/release')
    expect(install.summary).toMatch(/sidecars injected before keep their old image until their pods restart/)
    expect(install.summary).toContain('kubectl rollout restart deployment/istio-eastwestgateway -n istio-system')
  })
})

describe('e2e: a hub the clusters cannot pull from, with readiness-timeout 2s', () => {
  let sim: Sim
  let runner: ReturnType<typeof makeRunner>
  let run: Run

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    run = await runAction({
      inputs: {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': '1.30.3',
        hub: 'registry.istio.io/release',
        'readiness-timeout': '2s',
        ...sim.inputs
      },
      env: sim.env,
      runner
    })
  }, 300_000)

  afterAll(async () => {
    await sim?.stop()
    runner?.cleanup()
  })

  it("fails fast with istioctl's own error, the command line with --readiness-timeout 2s, and each unready pod's reason and image", () => {
    expect(run.exitCode).toBe(1)
    // Base, Pilot (2 s), gateways (2 s) per cluster, side by side: well under a minute, nowhere near a process limit.
    expect(run.durationMs).toBeLessThan(60_000)
    const errors = errorAnnotations(run.stdout).filter((e) => e.title === 'cluster1 · control plane (istioctl install)')
    expect(errors).toHaveLength(1)
    const message = errors[0].message
    expect(message).toMatch(
      /^cluster1 · control plane \(istioctl install\): istioctl install -y -f - --readiness-timeout 2s --context cluster1 exited with code 1\n/
    )
    expect(message).not.toMatch(/timed out after/)
    expect(message).toMatch(/^command: istioctl install -y -f - --readiness-timeout 2s --context cluster1$/m)
    // istioctl's own words, from the stderr tail.
    expect(message).toContain('Error: failed to install manifests: 2 errors occurred:')
    expect(message).toContain('failed to wait for resource: resources not ready after 2s: context deadline exceeded')
    // What kubectl says about each unready pod: reason, image, message.
    for (const [pod, image] of [
      ['istiod', 'registry.istio.io/release/pilot:1.30.3'],
      ['istio-ingressgateway', 'registry.istio.io/release/proxyv2:1.30.3']
    ])
      expect(message).toMatch(
        new RegExp(
          `^- ${pod}-\\S+: ImagePullBackOff \\(image ${image.replace(/\./g, '\\.')}\\): Back-off pulling image "${image.replace(/\./g, '\\.')}"`,
          'm'
        )
      )
    expect(message).toMatch(
      /registry\.istio\.io\/release is one of the registries Istio retired in December 2026; set "hub"/
    )
    // The other steps of that cluster were skipped; nothing else failed in between.
    expect(run.summary).toContain('ImagePullBackOff (image registry.istio.io/release/pilot:1.30.3)')
  })
})
