// network-labels/<cluster>: istiod tells a remote pod from a local one by network. It takes a cluster's network from
// istio-system's topology.istio.io/network label, and finds the network's gateway by the same label on the gateway
// Service; the gateway's pods carry it too (the IstioOperator's `label`). Any disagreement makes peers see this
// cluster's pod IPs instead of its gateway (istio#42516, #39930).
import { ClusterConfig } from '../config/index.js'
import { EASTWEST_GATEWAY, ISTIO_NAMESPACE, NETWORK_LABEL } from '../istio-names.js'
import * as kubectl from '../kube/kubectl.js'
import { CheckProvider, perCluster } from './provider.js'
import { Check } from './types.js'

export const NETWORK_CHECK = 'network-labels'

/** The labels seen on one cluster: the namespace's, the gateway Service's, and each gateway pod's. */
export interface NetworkLabels {
  namespaceExists: boolean
  namespace?: string
  service?: { present: boolean; label?: string }
  pods: { name: string; label?: string }[]
}

const show = (v: string | undefined) => (v === undefined ? '(none)' : `"${v}"`)

export function networkLabelCheck(c: ClusterConfig, seen: NetworkLabels): Omit<Check, 'id' | 'cluster'> {
  if (!seen.namespaceExists)
    return {
      status: 'pass',
      message: `no ${ISTIO_NAMESPACE} yet: install would create it labelled ${NETWORK_LABEL}=${c.network}`
    }
  const parts = [
    `${ISTIO_NAMESPACE}: ${show(seen.namespace)}`,
    `configured: "${c.network}"`,
    ...(seen.service?.present ? [`service ${EASTWEST_GATEWAY}: ${show(seen.service.label)}`] : []),
    ...seen.pods.map((p) => `pod ${p.name}: ${show(p.label)}`)
  ]
  const values = `${NETWORK_LABEL} — ${parts.join('; ')}`
  const gatewayLabels = [...(seen.service?.present ? [seen.service.label] : []), ...seen.pods.map((p) => p.label)]
  const gatewayDiffers = gatewayLabels.some((l) => l !== seen.namespace)
  if (gatewayDiffers)
    return {
      status: 'fail',
      message: `the east-west gateway's network label differs from ${ISTIO_NAMESPACE}'s: the other clusters would reach this cluster's pods by their IPs instead of through the gateway (${values})`,
      hint: `Re-run install: it labels ${ISTIO_NAMESPACE} and renders the gateway (Service and pods) with network "${c.network}". By hand: kubectl label namespace ${ISTIO_NAMESPACE} ${NETWORK_LABEL}=${c.network} --overwrite, and the same label on service/${EASTWEST_GATEWAY} and its Deployment's pod template.`
    }
  if (seen.namespace !== c.network)
    return {
      status: 'warn',
      message: `${ISTIO_NAMESPACE} is on another network than configured: install would relabel it, moving the cluster's workloads to network "${c.network}" (${values})`,
      hint: `If the cluster already serves mesh traffic, set its "network" in clusters to ${show(seen.namespace)} to keep it where it is.`
    }
  return { status: 'pass', message: `the labels agree (${values})` }
}

interface LabelledObject {
  kind: string
  metadata: { name: string; labels?: Record<string, string> }
}

/** Reads the gateway Service and pods (by the gateway's app label) beside the state's namespace label. */
export const networkLabelProvider: CheckProvider = async (ctx) => {
  const read = await Promise.all(
    ctx.config.clusters.map(async (c): Promise<[string, NetworkLabels | Check] | undefined> => {
      const s = ctx.states.get(c.name)
      if (!s) return undefined
      if (!s.namespaceExists) return [c.name, { namespaceExists: false, pods: [] }]
      try {
        const json = await kubectl.getJson(
          ctx.tools,
          c.name,
          { resource: 'services,pods', namespace: ISTIO_NAMESPACE, selector: `app=${EASTWEST_GATEWAY}` },
          ctx.log,
          { quiet: true }
        )
        const items = (JSON.parse(json) as { items?: LabelledObject[] }).items ?? []
        const svc = items.find((o) => o.kind === 'Service' && o.metadata.name === EASTWEST_GATEWAY)
        return [
          c.name,
          {
            namespaceExists: true,
            namespace: s.network,
            service: { present: Boolean(svc), label: svc?.metadata.labels?.[NETWORK_LABEL] },
            pods: items
              .filter((o) => o.kind === 'Pod')
              .map((p) => ({ name: p.metadata.name, label: p.metadata.labels?.[NETWORK_LABEL] }))
          }
        ]
      } catch (e) {
        return [
          c.name,
          {
            id: `${NETWORK_CHECK}/${c.name}`,
            cluster: c.name,
            status: 'fail',
            message: `could not read the gateway's labels: ${(e as Error).message}`
          }
        ]
      }
    })
  )
  const byCluster = new Map(read.flatMap((r) => (r ? [r] : [])))
  return perCluster(ctx, NETWORK_CHECK, (c) => {
    const r = byCluster.get(c.name)!
    return 'id' in r ? { status: r.status, message: r.message } : networkLabelCheck(c, r)
  })
}
