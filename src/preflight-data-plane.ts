import { Config } from './config/index.js'
import { ZTUNNEL } from './istio-names.js'
import { ClusterState } from './state.js'

/**
 * A running mesh keeps its data plane: moving between sidecars and ambient re-labels every workload namespace and
 * restarts every pod (istio.io "Migrate to ambient" is a procedure of its own), which a re-run must not start. What a
 * cluster runs is read from it: the ambient profile's ztunnel DaemonSet, or an istiod without one.
 */
export function dataPlaneChange(config: Config, states: Map<string, ClusterState>): string | undefined {
  const changed = config.clusters.filter((c) => {
    const now = states.get(c.name)?.dataPlane
    return now !== undefined && now !== config.dataPlane
  })
  if (!changed.length) return undefined
  const now = states.get(changed[0].name)!.dataPlane!
  return (
    `${changed.map((c) => c.name).join(', ')} ${changed.length > 1 ? 'run' : 'runs'} the ${now} data plane (${now === 'ambient' ? `DaemonSet ${ZTUNNEL} in istio-system` : `istiod without ${ZTUNNEL}`}), not data-plane "${config.dataPlane}". ` +
    `Changing the data plane of a running mesh is not supported: uninstall first (mode: uninstall), then install with data-plane: ${config.dataPlane}; or keep data-plane: ${now}.`
  )
}
