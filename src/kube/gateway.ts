import { EASTWEST_GATEWAY, ISTIO_NAMESPACE } from '../istio-names.js'
import { poll } from '../poll.js'
import { ClusterTools, CommandError, StepLog } from '../tools.js'
import { isTransientResult } from '../transient.js'
import * as kubectl from './kubectl.js'

/** jsonpath that prints "<ip> <hostname>" per watch event: AWS load balancers give hostnames, most others IPs. */
const ADDRESS_JSONPATH = '{.status.loadBalancer.ingress[0].ip}{" "}{.status.loadBalancer.ingress[0].hostname}{"\\n"}'

/**
 * The gateway's Service as a list narrowed by a field selector, not `get service <name>`: for a named object kubectl
 * GETs it, then watches from resourceVersion 0 and drops that watch's first event as a duplicate of what it printed.
 * An address the load balancer assigns between the GET and the start of the watch arrives in exactly that first
 * event, and is never printed: the wait then sat out gateway-timeout with the address already there. A list's watch
 * resumes at the list's resourceVersion, so nothing between the two is lost (and a Service that does not exist yet is
 * simply waited for).
 */
const serviceQuery = (svc: ServiceRef): kubectl.Query => ({
  resource: 'services',
  namespace: svc.namespace,
  fieldSelector: `metadata.name=${svc.name}`
})

export interface ServiceRef {
  namespace: string
  name: string
}

const GATEWAY: ServiceRef = { namespace: ISTIO_NAMESPACE, name: EASTWEST_GATEWAY }

/** What a LoadBalancer Service without an address needs; the gateway's error and mode: check's hint. */
export const LOAD_BALANCER_HINT =
  'A LoadBalancer Service needs a load-balancer implementation: on kind or bare metal install MetalLB or cloud-provider-kind; on a cloud, check the events and "gateway-service-annotations"; or raise "gateway-timeout".'

export function addressFromLine(line: string): string | undefined {
  const [ip, hostname] = line.trim().split(/\s+/)
  return ip || hostname || undefined
}

/**
 * Waits for the east-west gateway's external address with `kubectl get --watch`: it reacts to the load balancer at once
 * and costs the API server a list and a watch instead of a request per poll. A watch that ends early, or fails
 * transiently, is started again until gateway-timeout.
 */
export function waitForGatewayAddress(
  tools: ClusterTools,
  cluster: string,
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  return waitForServiceAddress(tools, cluster, GATEWAY, timeoutMs, log)
}

/** The same wait for any LoadBalancer Service (mode: check's temporary one). */
export async function waitForServiceAddress(
  tools: ClusterTools,
  cluster: string,
  svc: ServiceRef,
  timeoutMs: number,
  log: StepLog
): Promise<string> {
  const query = serviceQuery(svc)
  const deadline = Date.now() + timeoutMs
  let address: string | undefined
  await poll(deadline, async () => {
    try {
      const result = await kubectl.watch(
        tools,
        cluster,
        query,
        ADDRESS_JSONPATH,
        deadline,
        (line) => Boolean((address = addressFromLine(line))),
        log
      )
      if (!address && !result.timedOut) log('watch ended without an address; watching again')
    } catch (e) {
      if (!(e instanceof CommandError && (e.result.timedOut || isTransientResult(e.result)))) throw e
    }
    return address
  })
  if (address) return address
  const events = await serviceEvents(tools, cluster, svc, log)
  const explanation = [
    `service ${svc.namespace}/${svc.name} got no external address (ip or hostname) within ${Math.round(timeoutMs / 1000)} s.`,
    events ? `Its events:\n${events}` : 'It has no events: no load-balancer controller seems to watch this cluster.'
  ].join('\n')
  throw new Error(
    `${explanation}\n${LOAD_BALANCER_HINT}\ncommand: ${kubectl.watchCommand(cluster, query, ADDRESS_JSONPATH)} (ended by "gateway-timeout")`
  )
}

/** Why the address is still pending: the Service's events ('' when there are none or they cannot be read). */
function serviceEvents(tools: ClusterTools, cluster: string, svc: ServiceRef, log: StepLog): Promise<string> {
  return kubectl
    .getJsonpath(
      tools,
      cluster,
      {
        resource: 'events',
        namespace: svc.namespace,
        fieldSelector: `involvedObject.kind=Service,involvedObject.name=${svc.name}`
      },
      '{range .items[*]}{.type} {.reason}: {.message}{"\\n"}{end}',
      log,
      kubectl.HINT
    )
    .then((out) => out.trim())
    .catch(() => '')
}
