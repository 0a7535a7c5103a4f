// The figures of `npm run bench` from its runs: ratios to both limits per profile, CPU per call, growth with N.
import { describe, expect, it } from '@jest/globals'
import { cpuPerCall, growth, summarize } from './stats.js'

const cpu = (toolsMs: number, actionProcessMs?: number) => ({
  serverMs: 100,
  toolsMs,
  othersMs: 0,
  utilisation: 0.5,
  actionProcessMs
})
const trace = (cluster: string, what: string, cpuMs: number) => ({
  tool: 'istioctl',
  cluster,
  what,
  startMs: 0,
  endMs: 1,
  cpuMs
})

/** An action run of n clusters, each with 8 kubectl and 3 istioctl processes and 40 requests. */
const actionRun = (n: number, wallMs: number, profile = 'today', extra: Record<string, unknown> = {}) => {
  const names = Array.from({ length: n }, (_, i) => `c${i}`)
  return {
    rep: 1,
    n,
    config: 'bench',
    profile,
    wallMs,
    postMs: 10,
    cpu: cpu(3000 * n, 500),
    peakRssMb: 60 + n,
    trace: names.flatMap((c) => [
      trace(c, 'install', 200),
      trace(c, 'install', 100),
      trace(c, 'create-remote-secret', 50)
    ]),
    firstCommandMs: 150,
    waitsSlowMs: 5000,
    overlappedWaitsSlowMs: 2700,
    processes: Object.fromEntries(names.map((c) => [c, { kubectl: 8, istioctl: 3 }])),
    behaviourRequests: Object.fromEntries(names.map((c) => [c, 3])),
    apiRequests: Object.fromEntries(names.map((c) => [c, 40])),
    timeline: [],
    waits: [],
    ...extra
  }
}
const limitRun = (profile: string, wallMs: number) => ({
  rep: 1,
  profile,
  n: 1,
  phases: 'path',
  wallMs,
  cpu: cpu(1000),
  waitsSlowMs: 5000,
  processes: {},
  marks: [],
  assignedMs: {}
})

describe('cpuPerCall', () => {
  it('istioctl per command from the shim, kubectl as the rest of the tools over the kubectl processes', () => {
    const r = cpuPerCall([actionRun(2, 9000)] as any)
    expect(r.istioctl.install).toMatchObject({ min: 100, median: 150, max: 200 })
    expect(r.istioctl['create-remote-secret']).toMatchObject({ median: 50 })
    // (6000 tools − 500 action − 2 × 350 istioctl) / 16 kubectl
    expect(r.kubectlMeanMs!.median).toBeCloseTo((6000 - 500 - 700) / 16, 6)
  })

  it('no mean without the action process or an istioctl trace', () => {
    expect(cpuPerCall([actionRun(2, 9000, 'today', { trace: undefined })] as any).kubectlMeanMs).toBeUndefined()
    expect(
      cpuPerCall([actionRun(2, 9000, 'today', { cpu: cpu(6000, undefined) })] as any).kubectlMeanMs
    ).toBeUndefined()
  })
})

describe('summarize', () => {
  const raw = {
    limit: [limitRun('today', 8000), limitRun('cloud', 20000)],
    overlapLimit: [limitRun('today', 6000), limitRun('cloud', 14000)],
    action: [actionRun(2, 9000), actionRun(4, 10000), actionRun(2, 15000, 'cloud'), actionRun(4, 16000, 'cloud')],
    baseline: [],
    defaultConfig: []
  }
  const rows = summarize(raw as any, { ns: [2, 4], profiles: ['today', 'cloud'] })

  it('one row per profile and N, each against the limits of its own profile', () => {
    expect(rows.map((r) => [r.profile, r.n])).toEqual([
      ['today', 2],
      ['today', 4],
      ['cloud', 2],
      ['cloud', 4]
    ])
    const cloud2 = rows[2]
    expect(cloud2.actionOverLimit.median).toBeCloseTo(15000 / 20000, 6)
    expect(cloud2.actionOverOverlap.median).toBeCloseTo(15000 / 14000, 6)
    expect(cloud2.overlapOverLimit).toBeCloseTo(14000 / 20000, 6)
    expect(rows[0].actionOverLimit.median).toBeCloseTo(9000 / 8000, 6)
  })

  it('totals over the clusters: processes, API requests; peak memory per run', () => {
    expect(rows[1].processesTotal!.median).toBe(4 * 11)
    expect(rows[1].apiRequestsTotal!.median).toBe(4 * 40)
    expect(rows[1].peakRssMb!.median).toBe(64)
    expect(rows[1].istioctlShimMatchesApiServers).toBe(true)
  })

  it('growth: linear processes and requests, sublinear wall time and memory', () => {
    const g = growth(rows, 'today')
    expect(g.ns).toEqual([2, 4])
    expect(g.processes.exponent).toBeCloseTo(1, 6)
    expect(g.apiRequests.verdict).toBe('linear or better')
    expect(g.wallMs.exponent!).toBeLessThan(0.2)
    expect(g.peakRssMb.exponent!).toBeLessThan(0.1)
  })
})

describe('summarize with topologies', () => {
  const pr = (n: number, wallMs: number) =>
    actionRun(n, wallMs, 'today', { topology: 'primary-remote', waitsSlowMs: 9000, overlappedWaitsSlowMs: 6000 })
  const raw = {
    limit: [limitRun('today', 8000)],
    overlapLimit: [limitRun('today', 6000)],
    action: [actionRun(2, 9000), actionRun(4, 10000), pr(2, 12000), pr(4, 13000)],
    baseline: [],
    defaultConfig: []
  }
  const rows = summarize(raw as any, {
    ns: [2, 4],
    profiles: ['today'],
    topologies: ['multi-primary', 'primary-remote']
  })

  it('a row per topology and N; runs without a topology are multi-primary; only multi-primary has the limits', () => {
    expect(rows.map((r) => [r.topology, r.n, r.actionMs?.median])).toEqual([
      ['multi-primary', 2, 9000],
      ['multi-primary', 4, 10000],
      ['primary-remote', 2, 12000],
      ['primary-remote', 4, 13000]
    ])
    expect(rows[0].limitMs?.median).toBe(8000)
    expect(rows[2].limitMs).toBeUndefined()
    expect(rows[2].actionOverLimit.median).toBeUndefined()
    expect(rows[2].actionOverheadMs?.median).toBe(12000 - 9000)
    expect(rows[3].apiRequestsTotal?.median).toBe(4 * 40)
  })

  it('growth of one topology only', () => {
    expect(growth(rows, 'today', 'primary-remote')).toMatchObject({ topology: 'primary-remote', ns: [2, 4] })
    expect(growth(rows, 'today', 'primary-remote').wallMs.exponent).toBeCloseTo(Math.log2(13000 / 12000), 6)
    expect(growth(rows, 'today').wallMs.exponent).toBeCloseTo(Math.log2(10000 / 9000), 6)
  })
})
