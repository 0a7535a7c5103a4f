// Types for what the parts of one simulated API server share (index.js builds it; handler, rest, watch, exec and the
// controllers read it). Internal: tests see index.d.ts.
import type { Socket } from 'node:net'
import type { Mesh, MeshPeer, RecordedRequest } from './index.js'
import type { Defaulter } from './defaults.js'
import type { Faults } from './faults.js'
import type { ResourceRegistry } from './resources.js'
import type { Store } from './store.js'

export interface ServerContext {
  name: string
  index: number
  adminToken: string
  caPem: string
  /** 127.0.0.(index+1): the address other clusters reach. */
  reachableHost: string
  port: number
  lb: { mode: 'ip' | 'hostname' | 'none'; delayMs?: number }
  latencyMs: number
  deploymentReadyDelayMs: number
  istioctlDelays: Record<string, number>
  remoteClusters: { syncMs?: number; timeoutMs?: number }
  /** Shared with the controllers by reference, so setUnpullableRegistries applies to pods created afterwards. */
  images: { unpullable: string[] }
  store: Store
  registry: ResourceRegistry
  defaulter: Defaulter
  faults: Faults
  requests: RecordedRequest[]
  /** `<namespace>/<pod>` → what its container printed (jobs.js); served as pods/<name>/log. */
  podLogs: Map<string, string>
  /** end() of every open watch. */
  watches: Set<() => void>
  /** Connections taken over through 'upgrade' (kubectl exec). */
  sockets: Set<Socket>
  mesh: Mesh
  meshPeer: MeshPeer | undefined
  /** Pending per-request delays. */
  timers: Set<NodeJS.Timeout>
  closing: boolean
  issueToken(namespace: string, serviceAccount: string): string
  revokeToken(token: string): void
  /** The authenticated user name, or undefined if the token is not accepted. */
  userFor(token: string | undefined): string | undefined
}

/** What the controllers get: the server's context and timers that stop() cancels. */
export interface ControllerContext extends ServerContext {
  schedule(fn: () => void, ms: number): NodeJS.Timeout
  cancel(t: NodeJS.Timeout | undefined): void
}
