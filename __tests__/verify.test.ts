// `istioctl remote-clusters` as the verify step reads it: tables of 1.30 (NAME SECRET STATUS ISTIOD) and 1.31 (+ REVISION)
// as Go's tabwriter prints them, one row per istiod pod and cluster; every pod must see every peer synced.
// e2e-verify.test.ts runs the same end to end against the simulated istioctl.
import { describe, expect, it } from '@jest/globals'
import { ProcessResult } from '../src/exec.js'
import { ClusterTools, CommandError, CommandOptions, StepLog } from '../src/tools.js'
import {
  VerifyError,
  explainStatus,
  parseRemoteClusters,
  peerStatuses,
  remoteClusterProblems,
  waitForRemoteClusters
} from '../src/verify.js'

// 1.30.3: two istiod pods (Go map order: not sorted), the local cluster first per pod with an empty SECRET.
const TWO_PODS_130 =
  'NAME         SECRET                                        STATUS      ISTIOD\n' +
  'cluster1                                                   synced      istiod-7b9f6c-abcde\n' +
  'cluster2     istio-system/istio-remote-secret-cluster2     timeout     istiod-7b9f6c-abcde\n' +
  'cluster3     istio-system/istio-remote-secret-cluster3     synced      istiod-7b9f6c-abcde\n' +
  'cluster1                                                   synced      istiod-7b9f6c-fghij\n' +
  'cluster3     istio-system/istio-remote-secret-cluster3     synced      istiod-7b9f6c-fghij\n' +
  'cluster2     istio-system/istio-remote-secret-cluster2     synced      istiod-7b9f6c-fghij\n'

// 1.31: REVISION column (empty for a pod without an istio.io/rev label: its ISTIOD cell is still padded).
const REVISION_131 =
  'NAME         SECRET                                        STATUS      ISTIOD                         REVISION\n' +
  'cluster1                                                   synced      istiod-canary-x-5d8f-aaaaa     canary-x\n' +
  'cluster2     istio-system/istio-remote-secret-cluster2     syncing     istiod-canary-x-5d8f-aaaaa     canary-x\n' +
  'cluster1                                                   synced      istiod-old-1                   \n'

describe('parseRemoteClusters', () => {
  it('reads a 1.30 table row by row, keeping every pod and the empty SECRET of the local cluster', () => {
    const rows = parseRemoteClusters(TWO_PODS_130)
    expect(rows).toHaveLength(6)
    expect(rows[0]).toEqual({ cluster: 'cluster1', secret: '', status: 'synced', istiod: 'istiod-7b9f6c-abcde' })
    expect(rows[1]).toEqual({
      cluster: 'cluster2',
      secret: 'istio-system/istio-remote-secret-cluster2',
      status: 'timeout',
      istiod: 'istiod-7b9f6c-abcde'
    })
    expect(rows[5]).toEqual({
      cluster: 'cluster2',
      secret: 'istio-system/istio-remote-secret-cluster2',
      status: 'synced',
      istiod: 'istiod-7b9f6c-fghij'
    })
  })

  it('reads the 1.31 REVISION column, empty where the pod has no revision label', () => {
    expect(parseRemoteClusters(REVISION_131)).toEqual([
      { cluster: 'cluster1', secret: '', status: 'synced', istiod: 'istiod-canary-x-5d8f-aaaaa', revision: 'canary-x' },
      {
        cluster: 'cluster2',
        secret: 'istio-system/istio-remote-secret-cluster2',
        status: 'syncing',
        istiod: 'istiod-canary-x-5d8f-aaaaa',
        revision: 'canary-x'
      },
      { cluster: 'cluster1', secret: '', status: 'synced', istiod: 'istiod-old-1', revision: '' }
    ])
  })

  it('finds no rows in output without the table (an old istioctl, an empty answer, a header only)', () => {
    expect(parseRemoteClusters('')).toEqual([])
    expect(parseRemoteClusters('Error: unable to find any Istiod instances\n')).toEqual([])
    expect(parseRemoteClusters('NAME     SECRET     STATUS     ISTIOD\n')).toEqual([])
  })
})

describe('every istiod pod must see every peer synced', () => {
  it('names each pod and peer that is not synced, "not listed" where a pod has no row', () => {
    const rows = parseRemoteClusters(TWO_PODS_130)
    expect(remoteClusterProblems(rows, ['cluster2', 'cluster3'])).toEqual([
      { peer: 'cluster2', istiod: 'istiod-7b9f6c-abcde', status: 'timeout' }
    ])
    expect(remoteClusterProblems(rows, ['cluster4'])).toEqual([
      { peer: 'cluster4', istiod: 'istiod-7b9f6c-abcde', status: 'not listed' },
      { peer: 'cluster4', istiod: 'istiod-7b9f6c-fghij', status: 'not listed' }
    ])
    // The last row of cluster2 says synced: a per-cluster reading (last row wins) would have missed the first pod.
    expect(remoteClusterProblems(rows, ['cluster3'])).toEqual([])
  })

  it('summarises per peer for the job summary', () => {
    const rows = parseRemoteClusters(TWO_PODS_130)
    expect(peerStatuses(rows, ['cluster2', 'cluster3'])).toEqual(
      new Map([
        ['cluster2', 'timeout in istiod-7b9f6c-abcde, synced in istiod-7b9f6c-fghij'],
        ['cluster3', 'synced']
      ])
    )
    expect(peerStatuses(parseRemoteClusters(REVISION_131), ['cluster2'])).toEqual(
      new Map([['cluster2', 'syncing in istiod-canary-x-5d8f-aaaaa, not listed in istiod-old-1']])
    )
    expect(peerStatuses([], ['cluster2'])).toEqual(new Map())
  })

  it('explains each status', () => {
    expect(explainStatus('timeout', 'cluster2')).toBe(
      "timeout (istiod gave up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default, without having read cluster2's API server)"
    )
    expect(explainStatus('syncing', 'cluster2')).toMatch(/^still syncing at the deadline/)
    expect(explainStatus('closed', 'cluster2')).toMatch(/^closed \(istiod stopped watching cluster2/)
    expect(explainStatus('not listed', 'cluster2')).toMatch(
      /^not listed \(istio-system has no remote secret for cluster2/
    )
  })
})

/** istioctl answering from a script: what the polling loop is given, and the arguments it passed. */
class ScriptedTools extends ClusterTools {
  readonly calls: string[][] = []
  constructor(private readonly answers: Array<string | Error>) {
    super('/nonexistent/kubeconfig', '/nonexistent/istioctl')
  }
  override async istioctl(
    _cluster: string,
    args: string[],
    _log: StepLog,
    _opts?: CommandOptions
  ): Promise<ProcessResult> {
    this.calls.push(args)
    const a = this.answers[Math.min(this.calls.length - 1, this.answers.length - 1)]
    if (a instanceof Error) throw a
    return { exitCode: 0, signal: null, stdout: a, stderr: '', durationMs: 1, timedOut: false, stoppedEarly: false }
  }
}

const failed = (stderr: string) =>
  new CommandError(
    'istioctl remote-clusters',
    { exitCode: 1, signal: null, stdout: '', stderr, durationMs: 1, timedOut: false, stoppedEarly: false },
    1
  )

describe('waitForRemoteClusters', () => {
  it('asks the revision it is given, and polls until every pod sees every peer synced', async () => {
    const allSynced = TWO_PODS_130.replace('timeout', 'synced ')
    const tools = new ScriptedTools([failed('Error: unable to find any Istiod instances\n'), TWO_PODS_130, allSynced])
    const seen = await waitForRemoteClusters(tools, 'cluster1', ['cluster2', 'cluster3'], 5000, () => {}, {
      revision: 'canary-x',
      pollMs: 1
    })
    expect(tools.calls).toEqual([
      ['remote-clusters', '--revision', 'canary-x'],
      ['remote-clusters', '--revision', 'canary-x'],
      ['remote-clusters', '--revision', 'canary-x']
    ])
    expect(seen).toEqual({
      revision: 'canary-x',
      istiods: ['istiod-7b9f6c-abcde', 'istiod-7b9f6c-fghij'],
      statuses: new Map([
        ['cluster2', 'synced'],
        ['cluster3', 'synced']
      ])
    })
  })

  it('at the deadline, names the pod and the status of each peer not synced', async () => {
    const tools = new ScriptedTools([TWO_PODS_130])
    const err = await waitForRemoteClusters(tools, 'cluster1', ['cluster2', 'cluster3'], 30, () => {}, {
      revision: 'default',
      pollMs: 5
    }).catch((e) => e)
    expect(err).toBeInstanceOf(VerifyError)
    expect(err.message).toBe(
      [
        'cluster1 does not see cluster2 as synced after 0 s (cluster2: timeout in istiod-7b9f6c-abcde, synced in istiod-7b9f6c-fghij)',
        "- cluster2 in istiod-7b9f6c-abcde: timeout (istiod gave up after PILOT_REMOTE_CLUSTER_TIMEOUT, 30 s by default, without having read cluster2's API server)",
        '(asked the 2 istiod pod(s) of revision default: istiod-7b9f6c-abcde, istiod-7b9f6c-fghij)'
      ].join('\n')
    )
    expect(err.missing).toEqual(['cluster2'])
  })

  it('when no istiod of the revision answers, says so with the last error', async () => {
    const tools = new ScriptedTools([failed('Error: unable to find any Istiod instances\n')])
    const err = await waitForRemoteClusters(tools, 'cluster1', ['cluster2'], 20, () => {}, {
      revision: 'canary-x',
      pollMs: 5
    }).catch((e) => e)
    expect(err.message).toBe(
      'cluster1 does not see cluster2 as synced after 0 s: no istiod pod of revision canary-x answered; last error: Error: unable to find any Istiod instances'
    )
    expect(err.problems).toEqual([])
  })
})
