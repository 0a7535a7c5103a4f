// The diagnostics bundle's pure parts: when it is written, which of istiod's lines it keeps, the plan as data, and
// what writing it puts on disk (a folder under RUNNER_TEMP that is not the credential folder, files 0600).
import { afterEach, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ISTIOD_LOG_KEEP, istiodLines, planOf } from '../src/diagnostics/collect.js'
import { DIAGNOSTICS_PREFIX, wantsDiagnostics, writeBundle } from '../src/diagnostics/bundle.js'
import { parseConfig } from '../src/config/index.js'
import { StepError } from '../src/errors.js'
import { StepResult } from '../src/runner.js'
import { buildInstallPlan } from '../src/steps/install-plan.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

describe('wantsDiagnostics', () => {
  it.each([
    ['on-failure', true, true],
    ['on-failure', false, false],
    ['always', false, true],
    ['never', true, false]
  ] as const)('%s, failed %s → %s', (mode, failed, want) => expect(wantsDiagnostics(mode, failed)).toBe(want))
})

describe('istiodLines', () => {
  it("keeps the secret controller's lines, drops the rest, says how many", () => {
    const text = [
      '[pod/istiod-1/discovery] 2026-01-01T00:00:00.000000Z\tinfo\tads\tXDS: Pushing Services:3 ConnectedEndpoints:2',
      '[pod/istiod-1/discovery] 2026-01-01T00:00:01.000000Z\tinfo\tprocessing remote config event for istio-system/istio-remote-secret-c2',
      '[pod/istiod-1/discovery] 2026-01-01T00:00:01.000000Z\tinfo\tAdd cluster\tcluster=c2 config=istio-system/istio-remote-secret-c2',
      '[pod/istiod-1/discovery] 2026-01-01T00:00:31.000000Z\terror\tremote cluster c2 failed to sync after 30s'
    ].join('\n')
    const out = istiodLines(text).split('\n')
    expect(out[0]).toBe(
      '# istiod (app=istiod, container discovery): 3 line(s) about remote clusters and secrets, of the last 2000 per pod'
    )
    expect(out.slice(1)).toEqual(text.split('\n').slice(1))
  })

  it('keeps the newest ISTIOD_LOG_KEEP and says how many older ones it left out', () => {
    const text = Array.from({ length: ISTIOD_LOG_KEEP + 5 }, (_, i) => `remote cluster c${i} failed to sync`).join('\n')
    const out = istiodLines(text).split('\n')
    expect(out).toHaveLength(ISTIOD_LOG_KEEP + 1)
    expect(out[0]).toContain('(5 older ones left out)')
    expect(out.at(-1)).toBe(`remote cluster c${ISTIOD_LOG_KEEP + 4} failed to sync`)
  })
})

describe('planOf', () => {
  it('lists each step with its needs and outcome, the error of a failed one, and no manifest', () => {
    const config = parseConfig(
      source({
        clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}',
        kubeconfig: tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')
      })
    )
    const steps = buildInstallPlan(config, { major: 1, minor: 30, patch: 3 })
    const results = new Map<string, StepResult>(
      steps.map((s) => [
        s.id,
        s.id === 'c2/gateway-address'
          ? { step: s, status: 'failed', durationMs: 3000, log: [], error: new StepError('c2', s.title, 'no address') }
          : { step: s, status: 'ok', durationMs: 1000, log: [] }
      ])
    )
    const plan = planOf(results)
    expect(plan).toHaveLength(steps.length)
    expect(plan.find((p) => p.id === 'c2/gateway-address')).toEqual({
      id: 'c2/gateway-address',
      cluster: 'c2',
      kind: 'gateway-address',
      title: steps.find((s) => s.id === 'c2/gateway-address')!.title,
      action: 'wait-gateway-address',
      needs: ['c2/eastwest-gateway'],
      status: 'failed',
      durationMs: 3000,
      error: `c2 · ${steps.find((s) => s.id === 'c2/gateway-address')!.title}: no address`
    })
    expect(JSON.stringify(plan)).not.toContain('IstioOperator')
  })
})

describe('writeBundle', () => {
  const before = process.env.RUNNER_TEMP
  let temp: string | undefined
  afterEach(() => {
    process.env.RUNNER_TEMP = before
    if (temp) fs.rmSync(temp, { recursive: true, force: true })
  })

  it('writes every file below a new folder of RUNNER_TEMP (not the credential folder), readable by the runner only', () => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), 'diag-'))
    process.env.RUNNER_TEMP = temp
    const dir = writeBundle(
      new Map([
        ['README.txt', 'index\n'],
        ['c1/events.txt', 'none\n']
      ])
    )
    expect(path.dirname(dir)).toBe(temp)
    expect(path.basename(dir).startsWith(DIAGNOSTICS_PREFIX)).toBe(true)
    expect(path.basename(dir).startsWith('istio-multicluster-')).toBe(false)
    expect(fs.readFileSync(path.join(dir, 'c1/events.txt'), 'utf8')).toBe('none\n')
    expect((fs.statSync(path.join(dir, 'c1/events.txt')).mode & 0o777).toString(8)).toBe('600')
  })
})
