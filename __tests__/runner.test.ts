import { describe, expect, it } from '@jest/globals'
import { Step } from '../src/steps/step.js'
import { StepResult, runPlan } from '../src/runner.js'
import { CommandError } from '../src/tools.js'

const step = (id: string, needs: string[] = []): Step => ({
  id,
  cluster: id.split('/')[0],
  kind: 'namespace',
  title: id.split('/')[1],
  needs,
  action: { type: 'apply', manifest: '' }
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('runPlan', () => {
  it('runs independent steps at once, respecting needs and max-parallel', async () => {
    let running = 0
    let peak = 0
    const order: string[] = []
    const steps = [step('a/1'), step('b/1'), step('c/1'), step('a/2', ['a/1']), step('b/2', ['b/1', 'a/1'])]
    const results = await runPlan(steps, {
      maxParallel: 2,
      execute: async (s) => {
        running++
        peak = Math.max(peak, running)
        await sleep(20)
        order.push(s.id)
        running--
      },
      events: { started: () => undefined, finished: () => undefined }
    })
    expect(peak).toBe(2)
    expect([...results.values()].map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok'])
    expect(order.indexOf('a/2')).toBeGreaterThan(order.indexOf('a/1'))
    expect(order.indexOf('b/2')).toBeGreaterThan(Math.max(order.indexOf('a/1'), order.indexOf('b/1')))
  })

  it('a failure skips what depends on it and lets the other clusters finish; the error names cluster, step, command and stderr', async () => {
    const finished: StepResult[] = []
    const steps = [step('a/ns'), step('a/cp', ['a/ns']), step('a/gw', ['a/cp']), step('b/ns'), step('b/cp', ['b/ns'])]
    const results = await runPlan(steps, {
      maxParallel: Infinity,
      execute: async (s, log) => {
        log(`ran ${s.id}`)
        if (s.id === 'a/cp')
          throw new CommandError(
            'istioctl install -y -f - --context a',
            {
              exitCode: 1,
              signal: null,
              stdout: '',
              stderr: 'line1\nError: failed to install manifests: boom\n',
              durationMs: 5,
              timedOut: false,
              stoppedEarly: false
            },
            1
          )
      },
      events: { started: () => undefined, finished: (r) => finished.push(r) }
    })
    expect(results.get('a/cp')!.status).toBe('failed')
    expect(results.get('a/gw')!.status).toBe('skipped')
    expect(results.get('b/cp')!.status).toBe('ok')
    const message = results.get('a/cp')!.error!.message
    expect(message).toMatch(/^a · cp: istioctl install -y -f - --context a exited with code 1/)
    expect(message).toContain('command: istioctl install -y -f - --context a')
    expect(message).toContain('Error: failed to install manifests: boom')
    expect(finished).toHaveLength(5)
  })

  it('starts nothing new after cancellation and marks the rest cancelled', async () => {
    const abort = new AbortController()
    const steps = [step('a/1'), step('a/2', ['a/1']), step('a/3', ['a/2'])]
    const results = await runPlan(steps, {
      maxParallel: Infinity,
      signal: abort.signal,
      execute: async (s) => {
        if (s.id === 'a/1') abort.abort()
      },
      events: { started: () => undefined, finished: () => undefined }
    })
    expect(results.get('a/2')!.status).toBe('cancelled')
    expect(results.get('a/3')!.status).toBe('cancelled')
  })

  it('runs an always-step (cleanup) after its needs finished, even when they failed', async () => {
    const steps = [step('a/check'), { ...step('a/cleanup', ['a/check']), always: true }, step('a/after', ['a/check'])]
    const results = await runPlan(steps, {
      maxParallel: Infinity,
      execute: async (s) => {
        if (s.id === 'a/check') throw new Error('no answer')
      },
      events: { started: () => undefined, finished: () => undefined }
    })
    expect(results.get('a/check')!.status).toBe('failed')
    expect(results.get('a/cleanup')!.status).toBe('ok')
    expect(results.get('a/after')!.status).toBe('skipped')
  })

  it('starts a step only after the steps it comes `after`, and also when they failed (an order, not a need)', async () => {
    const order: string[] = []
    const steps = [
      step('a/cp'),
      { ...step('a/secret', []), after: ['a/cp'] },
      { ...step('b/secret', []), after: ['b/cp', 'b/not-in-the-plan'] },
      step('b/cp'),
      step('b/uses-secret', ['b/secret'])
    ]
    const results = await runPlan(steps, {
      maxParallel: Infinity,
      execute: async (s) => {
        await sleep(s.id.endsWith('/cp') ? 30 : 1)
        order.push(s.id)
        if (s.id === 'b/cp') throw new Error('boom')
      },
      events: { started: () => undefined, finished: () => undefined }
    })
    expect(order.indexOf('a/secret')).toBeGreaterThan(order.indexOf('a/cp'))
    expect(order.indexOf('b/secret')).toBeGreaterThan(order.indexOf('b/cp'))
    expect(results.get('b/cp')!.status).toBe('failed')
    expect(results.get('b/secret')!.status).toBe('ok')
    expect(results.get('b/uses-secret')!.status).toBe('ok')
  })
})
