// The second read of each cluster starts as soon as that cluster's own last step has ended, not after the slowest.
import { describe, expect, it } from '@jest/globals'
import { Config } from '../src/config/index.js'
import { rereadEachWhenDone } from '../src/modes/reread.js'
import { runPlan } from '../src/runner.js'
import { Step } from '../src/steps/step.js'
import { ClusterTools } from '../src/tools.js'

const step = (id: string, needs: string[] = []): Step => ({
  id,
  cluster: id.split('/')[0],
  kind: 'namespace',
  title: id.split('/')[1],
  needs,
  action: { type: 'apply', manifest: '' }
})

/** A kubectl that answers the read with an istio-system namespace and records which cluster it read when. */
function recordingTools(reads: string[], fail: string[] = []) {
  return {
    kubectl: async (cluster: string, args: string[]) => {
      reads.push(`${cluster} ${args.join(' ')}`)
      if (fail.includes(cluster)) throw new Error(`no answer from ${cluster}`)
      return {
        exitCode: 0,
        stdout: JSON.stringify({ items: [{ kind: 'Namespace', metadata: { name: 'istio-system' } }] }),
        stderr: ''
      }
    }
  } as unknown as ClusterTools
}

const config = (names: string[]) => ({ clusters: names.map((name) => ({ name })) }) as unknown as Config

describe('rereadEachWhenDone', () => {
  it('reads a cluster again once its last step ends, while another cluster is still running; one kubectl per cluster', async () => {
    const reads: string[] = []
    const steps = [step('a/1'), step('a/2', ['a/1']), step('b/1')]
    let releaseB!: () => void
    const bHeld = new Promise<void>((r) => (releaseB = r))
    const rereads = rereadEachWhenDone(recordingTools(reads), config(['a', 'b']), steps, new AbortController().signal)
    const run = runPlan(steps, {
      maxParallel: 4,
      execute: async (s) => {
        if (s.cluster === 'b') await bHeld
      },
      events: { started: () => undefined, finished: (r) => rereads.finished(r) }
    })
    while (reads.length === 0) await new Promise((r) => setTimeout(r, 5))
    expect(reads).toEqual([
      'a get namespaces,deployments,daemonsets,pods,services,configmaps,secrets -n istio-system -o json'
    ])
    releaseB()
    await run
    const after = await rereads.all()
    expect(reads.map((r) => r.split(' ')[0])).toEqual(['a', 'b'])
    expect([...after!.keys()]).toEqual(['a', 'b'])
    expect(after!.get('b')!.namespaceExists).toBe(true)
  })

  it('reads at the end a cluster whose steps never all ended, and gives up the figures when one read fails', async () => {
    const reads: string[] = []
    const rereads = rereadEachWhenDone(
      recordingTools(reads, ['b']),
      config(['a', 'b']),
      [step('a/1')],
      new AbortController().signal
    )
    expect(await rereads.all()).toBeUndefined()
    expect(reads.map((r) => r.split(' ')[0]).sort()).toEqual(['a', 'b'])
  })

  it('reads nothing once the run is cancelled', async () => {
    const reads: string[] = []
    const cancel = new AbortController()
    cancel.abort()
    const rereads = rereadEachWhenDone(recordingTools(reads), config(['a']), [step('a/1')], cancel.signal)
    expect(await rereads.all()).toBeUndefined()
    expect(reads).toEqual([])
  })
})
