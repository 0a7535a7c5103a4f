// The diagnostics bundle end to end on dist/: a failing install (cluster2's load balancer never assigns an address)
// writes it under RUNNER_TEMP with every part the README lists, no credential in it, and says in the log why it was
// not uploaded (no runner services here); `diagnostics: never` writes nothing; `always` writes one for a passing
// mode: check, with its checks and without istioctl's part (check downloads no istioctl).
import { beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runAction, visibleLog } from '../test/harness/action.js'
import { findLeaks, leakPlaces, maskedValues, storedCredentials } from '../test/harness/inspect.js'
import { startArtifactService } from '../test/harness/artifact-service.js'

type Run = Awaited<ReturnType<typeof runAction>>

const VERSION = '1.30.3'
const PREFIX = 'diagnostics-istio-multicluster-'

interface Outcome {
  run: Run
  leaks: string[]
  /** The bundle: relative path → content (read before the runner's folder goes). */
  files: Map<string, string>
  /** Folders under RUNNER_TEMP after post. */
  temp: string[]
  bundleDir?: string
}

async function failingInstall(inputs: Record<string, string>): Promise<Outcome> {
  const sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'none' } }] })
  const runner = makeRunner()
  try {
    const run = await runAction({
      inputs: {
        clusters: sim.clustersInput(),
        kubeconfig: sim.kubeconfig(),
        'istio-version': VERSION,
        'gateway-timeout': '3s',
        ...sim.inputs,
        ...inputs
      },
      env: sim.env,
      runner,
      timeoutMs: 150_000
    })
    return outcome(run, runner, sim)
  } finally {
    await sim.stop()
    runner.cleanup()
  }
}

function outcome(
  run: Run,
  runner: ReturnType<typeof makeRunner>,
  sim: Awaited<ReturnType<typeof startSimulation>>
): Outcome {
  const leaks = findLeaks(leakPlaces(run, runner), [CANARY, ...storedCredentials(sim), ...maskedValues(run.stdout)])
  const bundleDir = run.outputs['diagnostics-path'] || undefined
  const files = new Map(
    bundleDir ? filesBelow(bundleDir).map((f) => [path.relative(bundleDir, f), fs.readFileSync(f, 'utf8')]) : []
  )
  return { run, leaks, files, temp: fs.readdirSync(runner.runnerTemp), bundleDir }
}

describe('diagnostics (dist/)', () => {
  describe('a failing install, diagnostics: on-failure (the default)', () => {
    let o: Outcome
    beforeAll(async () => {
      o = await failingInstall({})
    }, 200_000)

    it('writes the bundle under RUNNER_TEMP, named by diagnostics-path, with every part per cluster and for the run', () => {
      expect(o.run.exitCode).not.toBe(0)
      expect(path.basename(o.bundleDir!)).toMatch(new RegExp(`^${PREFIX}`))
      expect(o.temp).toContain(path.basename(o.bundleDir!))
      expect([...o.files.keys()].sort()).toEqual(
        [
          'README.txt',
          ...['cluster1', 'cluster2'].flatMap((c) =>
            ['events.txt', 'istio-system.txt', 'istiod.log', 'remote-clusters.txt'].map((f) => `${c}/${f}`)
          ),
          'istio-operators/cluster1-control-plane.yaml',
          'istio-operators/cluster1-eastwest-gateway.yaml',
          'istio-operators/cluster2-control-plane.yaml',
          'istio-operators/cluster2-eastwest-gateway.yaml',
          'plan.json',
          'probes.json'
        ].sort()
      )
      // cluster2's gateway-forwarding step probed cluster1's gateway (the other network) from its one probe pod.
      expect(JSON.parse(o.files.get('probes.json')!)).toContainEqual(
        expect.objectContaining({ from: 'cluster2', to: 'cluster1', target: 'gateway', status: 'reachable' })
      )
    })

    it("holds what explains the failure: the pending address, the load balancer's events, the failed step", () => {
      expect(o.files.get('cluster2/istio-system.txt')).toMatch(
        /service\/istio-eastwestgateway\s+LoadBalancer\s+\S+\s+<pending>/
      )
      expect(o.files.get('cluster2/events.txt')).toMatch(/EnsuringLoadBalancer\s+service\/istio-eastwestgateway/)
      const plan = JSON.parse(o.files.get('plan.json')!) as { id: string; status: string; error?: string }[]
      expect(plan.find((s) => s.id === 'cluster2/gateway-address')).toMatchObject({
        status: 'failed',
        error: expect.stringContaining('got no external address')
      })
      expect(o.files.get('istio-operators/cluster1-control-plane.yaml')).toMatch(/clusterName: cluster1/)
    })

    it("has istiod's lines about remote secrets and remote-clusters' table", () => {
      // cluster2's remote secret reached cluster1 (it needs only cluster2's namespace), so cluster1's istiod added it.
      const lines = o.files.get('cluster1/istiod.log')!.split('\n')
      expect(lines[0]).toMatch(/^# istiod \(app=istiod, container discovery\): \d+ line\(s\) about remote clusters/)
      expect(lines).toContainEqual(
        expect.stringMatching(
          /^\[pod\/istiod-[^/]+\/discovery\] \S+Z\tinfo\tAdd cluster\tcluster=cluster2 config=istio-system\/istio-remote-secret-cluster2$/
        )
      )
      expect(o.files.get('cluster1/remote-clusters.txt')).toMatch(
        /cluster2\s+istio-system\/istio-remote-secret-cluster2\s+synced/
      )
    })

    it('keeps every credential out of it, and says why it was not uploaded', () => {
      expect(o.leaks).toEqual([])
      expect(visibleLog(o.run.stdout)).toContain(
        `Diagnostics not uploaded as a workflow artifact: ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL are not set (not on a GitHub Actions runner); the bundle stays in ${o.bundleDir}.`
      )
      expect(o.run.summary).toContain(`\`${o.bundleDir}\``)
    })
  })

  it('diagnostics: never writes nothing and sets no diagnostics-path', async () => {
    const o = await failingInstall({ diagnostics: 'never' })
    expect(o.run.exitCode).not.toBe(0)
    expect(o.run.outputs['diagnostics-path']).toBeUndefined()
    expect(o.temp.filter((d) => d.startsWith(PREFIX))).toEqual([])
    expect(o.run.stdout).not.toMatch(/Diagnostics/)
  }, 200_000)

  it('diagnostics: always writes one for a passing mode: check: its checks, no istioctl part', async () => {
    const sim = await startSimulation()
    const runner = makeRunner()
    try {
      const run = await runAction({
        inputs: {
          mode: 'check',
          diagnostics: 'always',
          clusters: sim.clustersInput(),
          kubeconfig: sim.kubeconfig(),
          'istio-version': VERSION,
          ...sim.inputs
        },
        env: sim.env,
        runner
      })
      const o = outcome(run, runner, sim)
      expect(run.exitCode).toBe(0)
      expect([...o.files.keys()].sort()).toEqual(
        [
          'README.txt',
          'checks.json',
          ...['cluster1', 'cluster2'].flatMap((c) =>
            ['events.txt', 'istio-system.txt', 'istiod.log'].map((f) => `${c}/${f}`)
          ),
          'probes.json'
        ].sort()
      )
      expect(JSON.parse(o.files.get('checks.json')!)).toEqual(JSON.parse(run.outputs.checks))
      // The API server probes of the check, as judged: reached without a token before any remote secret exists.
      expect(JSON.parse(o.files.get('probes.json')!)).toEqual(
        expect.arrayContaining(
          ['cluster1', 'cluster2'].map((from) => expect.objectContaining({ from, target: 'api-server', status: 'ok' }))
        )
      )
      expect(o.leaks).toEqual([])
    } finally {
      await sim.stop()
      runner.cleanup()
    }
  }, 200_000)

  it('uploads the bundle as a workflow artifact when the runner gives it the artifact services (a local stand-in)', async () => {
    const service = await startArtifactService()
    const sim = await startSimulation({ clusters: [{ name: 'cluster1' }, { name: 'cluster2', lb: { mode: 'none' } }] })
    const runner = makeRunner()
    try {
      const run = await runAction({
        inputs: {
          mode: 'check',
          clusters: sim.clustersInput(),
          kubeconfig: sim.kubeconfig(),
          'istio-version': VERSION,
          'gateway-timeout': '2s',
          ...sim.inputs
        },
        env: { ...sim.env, ...service.env, GITHUB_JOB: 'preflight' },
        runner
      })
      const o = outcome(run, runner, sim)
      expect(run.exitCode).not.toBe(0)
      const name = `${PREFIX}preflight-${path.basename(o.bundleDir!).slice(PREFIX.length)}`
      const uploaded = service.artifacts.get(name)
      expect(uploaded).toBeDefined()
      expect(visibleLog(run.stdout)).toContain(
        `Diagnostics uploaded as the workflow artifact ${name} (id ${uploaded!.id}, ${uploaded!.size} bytes).`
      )
      expect(uploaded!.hash).toMatch(/^sha256:[0-9a-f]{64}$/)
      const zip = path.join(runner.home, 'artifact.zip')
      fs.writeFileSync(zip, uploaded!.zip)
      const listed = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort()
      expect(listed).toEqual([...o.files.keys()].sort())
      const text = execFileSync('unzip', ['-p', zip], { encoding: 'latin1' })
      expect(findLeaks({ artifact: text }, [CANARY, ...storedCredentials(sim)])).toEqual([])
      expect(o.leaks).toEqual([])
    } finally {
      await Promise.all([sim.stop(), service.close()])
      runner.cleanup()
    }
  }, 200_000)
})
