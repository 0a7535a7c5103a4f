// Once the action is stopping (a cancel), no command starts — but a cleanup of what the action created does
// (mode: check's namespace): `afterStop`. In a file of its own: terminateAll() stops this module for good.
import { describe, expect, it } from '@jest/globals'
import { runProcess, terminateAll } from '../src/exec.js'
import { ClusterTools } from '../src/tools.js'
import { CancelledError } from '../src/errors.js'

describe('afterStop', () => {
  it('starts a cleanup after terminateAll, and nothing else', async () => {
    terminateAll()
    const refused = await runProcess('node', ['-e', 'process.stdout.write("ran")'])
    expect(refused).toMatchObject({ exitCode: null, stdout: '', stderr: 'node: not started: the action is stopping\n' })
    const cleanup = await runProcess('node', ['-e', 'process.stdout.write("ran")'], { afterStop: true })
    expect(cleanup).toMatchObject({ exitCode: 0, stdout: 'ran' })
    // The same through ClusterTools: refused with CancelledError unless afterStop.
    const tools = new ClusterTools('/nonexistent/kubeconfig', '', { attempts: 1, baseDelayMs: 1 })
    await expect(tools.kubectl('c1', ['version', '--client'], () => undefined)).rejects.toBeInstanceOf(CancelledError)
    const r = await tools.kubectl('c1', ['version', '--client'], () => undefined, {
      afterStop: true,
      timeoutMs: 20_000
    })
    expect(r.exitCode).toBe(0)
  })
})
