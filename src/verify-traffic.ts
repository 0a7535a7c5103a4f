import * as kubectl from './kube/kubectl.js'
import { VERIFY_NAMESPACE } from './manifests/helloworld.js'
import { poll } from './poll.js'
import { ClusterTools, CommandError, StepLog } from './tools.js'

/** `Hello version: v2, instance: helloworld-v2-7c9b…` → `v2`. */
export function helloVersion(output: string): string | undefined {
  return /Hello version: (v\d+)/.exec(output)?.[1]
}

const CURL = { namespace: VERIFY_NAMESPACE, target: 'deploy/curl', container: 'curl' }

/**
 * The guide's traffic check from one cluster: curl helloworld until every version (each running in another cluster
 * too) has answered. A version only answers across clusters when remote secrets, gateways and the root of trust work.
 */
export async function verifyTraffic(
  tools: ClusterTools,
  cluster: string,
  versions: string[],
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  const deadline = Date.now() + timeoutMs
  await kubectl.rolloutStatus(tools, cluster, 'deployment', VERIFY_NAMESPACE, deadline, log)
  const seen = new Set<string>()
  let calls = 0
  let last = ''
  const answered = await poll(
    deadline,
    async () => {
      calls++
      try {
        last = (
          await kubectl.exec(
            tools,
            cluster,
            CURL,
            ['curl', '-sS', '--max-time', '5', `http://helloworld.${VERIFY_NAMESPACE}:5000/hello`],
            log
          )
        ).trim()
        const v = helloVersion(last)
        if (v) seen.add(v)
      } catch (e) {
        if (!(e instanceof CommandError)) throw e
        last = e.stderrTail
      }
      return versions.every((v) => seen.has(v))
        ? `${[...seen].sort().join(', ')} answered in ${calls} call(s)`
        : undefined
    },
    500
  )
  if (answered) return answered
  const missing = versions.filter((v) => !seen.has(v))
  throw new Error(
    `from ${cluster}, helloworld ${missing.join(', ')} never answered in ${calls} call(s) within ${Math.round(timeoutMs / 1000)} s (answered: ${[...seen].join(', ') || 'none'}; last reply: ${last.slice(0, 200) || 'nothing'}). ` +
      'Cross-cluster calls need: remote secrets synced (see the remote-clusters check), an east-west gateway with an address and cross-network-gateway in the other cluster, and cacerts from one root in both (otherwise CERTIFICATE_VERIFY_FAILED).'
  )
}
