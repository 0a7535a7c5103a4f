// End to end: a release site that accepts the connection and then sends nothing (a stalled mirror or proxy) fails the
// bundled action within the stall bound, naming the URL, what stalled and the fix; one transient stall is retried.
import { beforeAll, describe, expect, it } from '@jest/globals'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runEntry } from '../test/harness/action.js'
import { errorAnnotations } from '../test/harness/inspect.js'
import { DOWNLOAD_ATTEMPTS } from '../src/istioctl/http.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Fault = Parameters<Sim['releases']['setFault']>[0]

const VERSION = '1.31.1'
const ARCHIVE = `istioctl-${VERSION}-linux-amd64.tar.gz`
/** The bound the runs are given (ISTIO_MULTICLUSTER_DOWNLOAD_STALL_TIMEOUT): 1 s per attempt, 1 s between. */
const STALL_MS = 1000

interface Run {
  exitCode: Awaited<ReturnType<typeof runEntry>>['exitCode']
  stdout: string
  error: string
  elapsedMs: number
  archiveRequests: number
  toolCache: string[]
}

async function run(fault: Fault): Promise<Run> {
  const sim = await startSimulation({ versions: ['1.30.3', VERSION] })
  const runner = makeRunner()
  try {
    sim.releases.setFault(fault)
    const started = Date.now()
    const main = await runEntry({
      inputs: { clusters: sim.clustersInput(), kubeconfig: sim.kubeconfig(), 'istio-version': VERSION, ...sim.inputs },
      env: { ...sim.env, ISTIO_MULTICLUSTER_DOWNLOAD_STALL_TIMEOUT: `${STALL_MS}ms` },
      runner,
      timeoutMs: 120_000
    })
    const elapsedMs = Date.now() - started
    // The masks the runner is told of aside, no credential reaches the log.
    expect(main.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain(CANARY)
    return {
      exitCode: main.exitCode,
      stdout: main.stdout,
      error: errorAnnotations(main.stdout)
        .filter((e) => !e.title)
        .map((e) => e.message)
        .join('\n'),
      elapsedMs,
      archiveRequests: sim.releases.requests.filter((r) => r.path === `/objects/${VERSION}/${ARCHIVE}`).length,
      toolCache: filesBelow(runner.toolCache)
    }
  } finally {
    await sim.stop()
    runner.cleanup()
  }
}

const runs: Record<string, Run> = {}
beforeAll(async () => {
  runs.headers = await run({ kind: 'stall', at: 'headers', pathIncludes: `/objects/${VERSION}/${ARCHIVE}` })
  runs.body = await run({ kind: 'stall', at: 'body' })
  runs.once = await run({ kind: 'stall', at: 'body', count: 1 })
}, 300_000)

/** Three attempts of at most the bound each and two pauses of the bound; the rest (node, kubectl) well inside 20 s. */
const WITHIN_MS = (2 * DOWNLOAD_ATTEMPTS - 1) * STALL_MS + 20_000

/** Failed after every attempt, within the bound, and cached nothing. */
function expectGaveUp(r: Run): void {
  expect(r.exitCode).not.toBe(0)
  expect(r.archiveRequests).toBe(DOWNLOAD_ATTEMPTS)
  expect(r.elapsedMs).toBeLessThan(WITHIN_MS)
  expect(r.toolCache).toEqual([])
}

describe('e2e downloads: a stalled release site', () => {
  it('no answer at all: fails after the attempts, within the bound, naming the URL, the stall and the fix', () => {
    const r = runs.headers
    expectGaveUp(r)
    expect(r.error).toMatch(
      new RegExp(
        `^downloading istioctl ${VERSION} for linux-amd64 failed after 3 attempts: http://127\\.0\\.0\\.1:\\d+/istio/istio/releases/download/${VERSION}/${ARCHIVE} sent no answer: no data arrived for 1 s\\. .*https_proxy.*"download-base-url" at a mirror`
      )
    )
  })

  it('half the body and then nothing: fails the same way, saying it stopped mid-body', () => {
    const r = runs.body
    expectGaveUp(r)
    expect(r.error).toMatch(
      new RegExp(`failed after 3 attempts: \\S+/${ARCHIVE} stopped sending mid-body: no data arrived for 1 s\\.`)
    )
  })

  it('one stalled attempt: retried, verified by its checksum, installed', () => {
    const r = runs.once
    expect(r.stdout).toMatch(/stopped sending mid-body: no data arrived for 1 s\..*; trying again in 1 s/)
    expect(r.archiveRequests).toBe(2)
    expect(r.error).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.toolCache.some((f) => f.endsWith('/istioctl'))).toBe(true)
  })
})
