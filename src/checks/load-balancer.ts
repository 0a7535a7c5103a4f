// load-balancer/<cluster>: will the east-west gateway get an address? A gateway that has one answers it; otherwise a
// temporary LoadBalancer Service in the check's own namespace must get one within gateway-timeout. The namespace is
// removed afterwards, also on failure and cancel (the delete runs even when the action is stopping).
import { isStopping } from '../exec.js'
import { CHECK_NAMESPACE, EASTWEST_GATEWAY } from '../istio-names.js'
import { LOAD_BALANCER_HINT, waitForServiceAddress } from '../kube/gateway.js'
import * as kubectl from '../kube/kubectl.js'
import { LB_CHECK_SERVICE, loadBalancerCheck } from '../manifests/check.js'
import { toYaml } from '../manifests/kubernetes.js'
import { formatSeconds } from '../duration.js'
import { CheckContext, CheckProvider, perCluster } from './provider.js'
import { Check } from './types.js'

export const LB_CHECK = 'load-balancer'

export const loadBalancerProvider: CheckProvider = async (ctx) => {
  const found = new Map(
    await Promise.all(
      ctx.config.clusters
        .filter((c) => ctx.states.has(c.name))
        .map(async (c) => [c.name, await checkCluster(ctx, c.name)] as const)
    )
  )
  return perCluster(ctx, LB_CHECK, (c) => found.get(c.name)!)
}

async function checkCluster(ctx: CheckContext, cluster: string): Promise<Omit<Check, 'id' | 'cluster'>> {
  const existing = ctx.states.get(cluster)?.gateway?.address
  if (existing) return { status: 'pass', message: `service ${EASTWEST_GATEWAY} already has the address ${existing}` }
  const log = (line: string) => ctx.log(`${cluster}: ${line}`)
  const result = await tryAddress(ctx, cluster, log)
  try {
    // Cancelled: do not wait for the namespace's finalizers, the runner ends the process soon.
    await kubectl.deleteNamespace(ctx.tools, cluster, CHECK_NAMESPACE, !isStopping(), log, { afterStop: true })
    return result
  } catch (e) {
    return {
      status: 'fail',
      message: `${result.message}; and the check's namespace ${CHECK_NAMESPACE} could not be removed: ${(e as Error).message}`,
      hint: `Remove it: kubectl delete namespace ${CHECK_NAMESPACE}`
    }
  }
}

async function tryAddress(
  ctx: CheckContext,
  cluster: string,
  log: (line: string) => void
): Promise<Omit<Check, 'id' | 'cluster'>> {
  const t0 = Date.now()
  try {
    await kubectl.apply(ctx.tools, cluster, toYaml(...loadBalancerCheck(ctx.config.gatewayServiceAnnotations)), log)
    const address = await waitForServiceAddress(
      ctx.tools,
      cluster,
      { namespace: CHECK_NAMESPACE, name: LB_CHECK_SERVICE },
      ctx.config.gatewayTimeoutMs,
      log
    )
    return {
      status: 'pass',
      message: `a LoadBalancer Service got the address ${address} in ${formatSeconds(Date.now() - t0)}`
    }
  } catch (e) {
    const lines = (e as Error).message.split('\n').filter((l) => l !== LOAD_BALANCER_HINT && !l.startsWith('command: '))
    return { status: 'fail', message: lines.join(' '), hint: LOAD_BALANCER_HINT }
  }
}
