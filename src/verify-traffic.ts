import { VERIFY_NAMESPACE } from './manifests/helloworld.js'
import { isStopping, pause } from './exec.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'

/** `Hello version: v2, instance: helloworld-v2-7c9b…` → `v2`. */
export function helloVersion(output: string): string | undefined {
  return /Hello version: (v\d+)/.exec(output)?.[1]
}

/**
 * The guide's traffic check from one cluster: curl helloworld until every version (each running in another cluster
 * too) has answered. A version only answers across clusters when remote secrets, gateways and the root of trust work.
 */
export async function verifyTraffic(tools: ClusterTools, cluster: string, versions: string[], timeoutMs: number, log: StepLog): Promise<string> {
  const deadline = Date.now() + timeoutMs
  const seconds = () => Math.max(1, Math.round((deadline - Date.now()) / 1000))
  await tools.kubectl(cluster, ['rollout', 'status', 'deployment', '-n', VERIFY_NAMESPACE, `--timeout=${seconds()}s`], log, {
    retry: true,
    timeoutMs: deadline - Date.now() + 5000
  })
  const seen = new Set<string>()
  let calls = 0
  let last = ''
  while (Date.now() < deadline && !isStopping()) {
    calls++
    try {
      const r = await tools.kubectl(
        cluster,
        [
          'exec',
          '-n',
          VERIFY_NAMESPACE,
          'deploy/curl',
          '-c',
          'curl',
          '--',
          'curl',
          '-sS',
          '--max-time',
          '5',
          `http://helloworld.${VERIFY_NAMESPACE}:5000/hello`
        ],
        log,
        { timeoutMs: 30_000 }
      )
      last = r.stdout.trim()
      const v = helloVersion(r.stdout)
      if (v) seen.add(v)
    } catch (e) {
      if (!(e instanceof CommandError)) throw e
      last = e.stderrTail
    }
    if (versions.every((v) => seen.has(v))) return `${[...seen].sort().join(', ')} answered in ${calls} call(s)`
    await pause(500)
  }
  const missing = versions.filter((v) => !seen.has(v))
  throw new Error(
    `from ${cluster}, helloworld ${missing.join(', ')} never answered in ${calls} call(s) within ${Math.round(timeoutMs / 1000)} s (answered: ${[...seen].join(', ') || 'none'}; last reply: ${last.slice(0, 200) || 'nothing'}). ` +
      'Cross-cluster calls need: remote secrets synced (see the remote-clusters check), an east-west gateway with an address and cross-network-gateway in the other cluster, and cacerts from one root in both (otherwise CERTIFICATE_VERIFY_FAILED).'
  )
}
