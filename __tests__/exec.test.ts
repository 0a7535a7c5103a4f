// The one process wrapper: a command that outlives its timeout is stopped (SIGTERM), and one that ignores SIGTERM is
// killed 3 s later (SIGKILL). Real child processes, no mocks.
import { describe, expect, it } from '@jest/globals'
import { runProcess } from '../src/exec.js'

const node = process.execPath

describe('runProcess', () => {
  it('returns output and exit code', async () => {
    const r = await runProcess(node, [
      '-e',
      'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)'
    ])
    expect(r).toMatchObject({ exitCode: 3, stdout: 'out', stderr: 'err', timedOut: false, signal: null })
  })

  it('feeds stdin', async () => {
    const r = await runProcess(node, ['-e', 'process.stdin.pipe(process.stdout)'], { stdin: 'secret on stdin' })
    expect(r.stdout).toBe('secret on stdin')
  })

  it('stops a command at its timeout with SIGTERM', async () => {
    const r = await runProcess(node, ['-e', 'setTimeout(() => {}, 60_000)'], { timeoutMs: 200 })
    expect(r.timedOut).toBe(true)
    expect(r.signal).toBe('SIGTERM')
    // Bound from the wrapper's own timers: the timeout, plus process start and exit.
    expect(r.durationMs).toBeLessThan(200 + 2000)
  })

  it('kills a command that ignores SIGTERM, 3 s after the timeout', async () => {
    const script =
      'process.on("SIGTERM", () => console.log("ignoring SIGTERM")); console.log("ready"); setInterval(() => {}, 1000)'
    const r = await runProcess(node, ['-e', script], { timeoutMs: 1500 })
    expect(r.timedOut).toBe(true)
    expect(r.signal).toBe('SIGKILL')
    expect(r.stdout).toContain('ignoring SIGTERM')
    // SIGTERM at 1.5 s (long enough for the handler to be set even on a loaded machine), SIGKILL 3 s later; the process cannot have ended before the escalation.
    expect(r.durationMs).toBeGreaterThanOrEqual(4500)
    console.log(`SIGKILL path: ended after ${r.durationMs} ms (timeout 1500 ms + 3000 ms escalation)`)
  }, 15_000)

  it('stops a command early when a stdout line says so', async () => {
    const r = await runProcess(node, ['-e', 'console.log("a"); console.log("done"); setTimeout(() => {}, 60_000)'], {
      onStdoutLine: (l) => l === 'done'
    })
    expect(r.stoppedEarly).toBe(true)
    expect(r.timedOut).toBe(false)
  })

  it('reports a missing binary as exit code 127', async () => {
    const r = await runProcess('/nonexistent/istioctl', ['version'])
    expect(r.exitCode).toBe(127)
    expect(r.stderr).toMatch(/ENOENT/)
  })
})
