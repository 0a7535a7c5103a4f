// The Gateway API CRDs the action installed (labelled as its own), removed on uninstall only while nothing uses them.
import { MANAGED_BY, MANAGED_BY_LABEL } from '../istio-names.js'
import { ClusterTools, CommandError, StepLog } from '../tools.js'
import * as kubectl from './kubectl.js'

const OWN = `${MANAGED_BY_LABEL}=${MANAGED_BY}`
const OWN_OBJECTS = 'customresourcedefinitions,validatingadmissionpolicies,validatingadmissionpolicybindings'

/**
 * Deleting a CRD deletes every object of its kind in the cluster: routes and gateways someone created after the
 * action installed the CRDs would go with them. So the CRDs stay (and the step says which objects keep them) while
 * any object of theirs is left; the east-west Gateway is removed before this step.
 */
export async function removeOwnGatewayApiCrds(tools: ClusterTools, cluster: string, log: StepLog): Promise<string> {
  const crds = (
    await kubectl.getNames(tools, cluster, { resource: 'customresourcedefinitions', selector: OWN }, log)
  ).map((n) => n.slice(n.indexOf('/') + 1))
  const inUse: string[] = []
  for (const crd of crds)
    inUse.push(...(await kubectl.getNames(tools, cluster, { resource: crd, allNamespaces: true }, log)))
  if (inUse.length)
    return `kept ${crds.length} CRDs: ${inUse.length} object(s) still use them (${inUse.slice(0, 3).join(', ')}${inUse.length > 3 ? ', …' : ''})`
  await kubectl.deleteObjects(tools, cluster, { resource: OWN_OBJECTS, selector: OWN }, log).catch((e: unknown) => {
    // Before Kubernetes 1.30 there is no ValidatingAdmissionPolicy to delete (nor was one installed).
    if (!(e instanceof CommandError && kubectl.isNotServed(e.result.stderr))) throw e
    return kubectl.deleteObjects(tools, cluster, { resource: 'customresourcedefinitions', selector: OWN }, log)
  })
  return crds.length ? `removed ${crds.length} CRDs` : 'none installed by the action'
}
