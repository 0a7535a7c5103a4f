// The probes (issue 14): what verification, mode: check and the diagnostics artifact use.
export { runProbes, type ProbeRequest, type ProbeOptions } from './run.js'
export { probeChecks, explainProbe, type Explanation } from './explain.js'
export { parseProbeLog, classifyApiServer, classifyGateway, probeResults, type ProbeLine } from './classify.js'
export { apiServerTargetFromRemoteSecret, gatewayAddress } from './targets.js'
export type { ApiServerTarget, GatewayTarget } from '../manifests/probe.js'
export type { ProbeResult, ApiServerProbeStatus, GatewayProbeStatus } from './types.js'
