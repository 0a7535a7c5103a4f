import { ISTIO_NAMESPACE } from '../manifests/kubernetes.js'
import { EASTWEST_GATEWAY } from '../manifests/istio-operator.js'
import { pause } from '../exec.js'
import { ClusterTools, CommandError, StepLog, displayCommand, isTransient } from '../tools.js'

/** jsonpath that prints "<ip> <hostname>" per watch event: AWS load balancers give hostnames, most others IPs. */
const ADDRESS_JSONPATH = '{.status.loadBalancer.ingress[0].ip}{" "}{.status.loadBalancer.ingress[0].hostname}{"\\n"}'

export function addressFromLine(line: string): string | undefined {
  const [ip, hostname] = line.trim().split(/\s+/)
  return ip || hostname || undefined
}

/**
 * Waits for the east-west gateway's external address with one `kubectl get --watch`: it reacts to the load balancer
 * at once and costs the API server a list and a watch instead of a request per poll.
 *
 * The watch is a list narrowed by a field selector, not `get service <name>`: for a named object kubectl GETs it, then
 * watches from resourceVersion 0 and drops that watch's first event as a duplicate of what it printed. An address the
 * load balancer assigns between the GET and the start of the watch arrives in exactly that first event, and is never
 * printed: the wait then sat out gateway-timeout with the address already there. A list's watch resumes at the list's
 * resourceVersion, so nothing between the two is lost (and a Service that does not exist yet is simply waited for).
 */
export async function waitForGatewayAddress(tools: ClusterTools, cluster: string, timeoutMs: number, log: StepLog): Promise<string> {
  const deadline = Date.now() + timeoutMs
  const watch = [
    'get',
    'services',
    '-n',
    ISTIO_NAMESPACE,
    '--field-selector',
    `metadata.name=${EASTWEST_GATEWAY}`,
    '--watch',
    '-o',
    `jsonpath=${ADDRESS_JSONPATH}`
  ]
  let address: string | undefined
  while (!address && Date.now() < deadline) {
    try {
      const result = await tools.kubectl(cluster, watch, log, {
        timeoutMs: deadline - Date.now(),
        onStdoutLine: (line) => Boolean((address = addressFromLine(line)))
      })
      if (!address && !result.timedOut) log('watch ended without an address; watching again')
    } catch (e) {
      if (e instanceof CommandError && !e.result.timedOut && isTransient(e.result.stderr) && Date.now() < deadline - 1000) {
        await pause(1000)
        continue
      }
      if (!(e instanceof CommandError && e.result.timedOut)) throw e
    }
  }
  if (address) return address
  const explanation = await explainPendingAddress(tools, cluster, timeoutMs, log)
  throw new Error(`${explanation}\ncommand: ${displayCommand('kubectl', ['--context', cluster, ...watch])} (ended by "gateway-timeout")`)
}

/** Why the address is still pending: the Service's events, and the usual cause on kind and bare metal. */
async function explainPendingAddress(tools: ClusterTools, cluster: string, timeoutMs: number, log: StepLog): Promise<string> {
  let events = ''
  try {
    const r = await tools.kubectl(
      cluster,
      [
        'get',
        'events',
        '-n',
        ISTIO_NAMESPACE,
        '--field-selector',
        `involvedObject.kind=Service,involvedObject.name=${EASTWEST_GATEWAY}`,
        '-o',
        'jsonpath={range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}'
      ],
      log,
      { timeoutMs: 30_000 }
    )
    events = r.stdout.trim()
  } catch {
    events = ''
  }
  return [
    `service ${ISTIO_NAMESPACE}/${EASTWEST_GATEWAY} got no external address (ip or hostname) within ${Math.round(timeoutMs / 1000)} s.`,
    events ? `Its events:\n${events}` : 'It has no events: no load-balancer controller seems to watch this cluster.',
    'A LoadBalancer Service needs a load-balancer implementation: on kind or bare metal install MetalLB or cloud-provider-kind; on a cloud, check the events and "gateway-service-annotations"; or raise "gateway-timeout".'
  ].join('\n')
}
