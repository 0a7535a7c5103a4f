// Types for index.js, so TypeScript tests get a checked contract for the simulated API server.

/**
 * A Kubernetes object as the API returns it (plain JSON). Typed loosely on purpose: tests reach into
 * arbitrary fields (svc.status.loadBalancer.ingress[0].ip) the way kubectl -o jsonpath does.
 */
export type KubeObject = any

export interface ChangeEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED'
  object: KubeObject
  /** The object before the change (undefined for ADDED). */
  oldObject?: KubeObject
  resourceVersion: string
}

export declare class Store {
  /** The newest resourceVersion handed out. */
  readonly resourceVersion: string
  /** The object (apiVersion shown as asked), or undefined if absent. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[]
  /** Every stored object, sorted by namespace/name. */
  all(): KubeObject[]
  /** Create or replace; sets uid, creationTimestamp, resourceVersion and generation like the real server. */
  put(obj: KubeObject): KubeObject
  /** The deleted object, or undefined if there was none. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject
  /** Deterministic JSON of everything stored. */
  snapshot(): string
  eventsSince(resourceVersion: string): ChangeEvent[] | null
  on(event: 'change', listener: (e: ChangeEvent) => void): this
  off(event: 'change', listener: (e: ChangeEvent) => void): this
  once(event: 'change', listener: (e: ChangeEvent) => void): this
}

export interface RequestMatch {
  method?: string
  /** Substring of the request URL (path and query). */
  pathIncludes?: string
}

export type Fault =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; code: number; count?: number; retryAfter?: number; match?: RequestMatch }
  | { kind: 'reset'; count?: number; match?: RequestMatch }
  | { kind: 'hang'; count?: number; match?: RequestMatch }
  | { kind: 'expireToken' }
  | { kind: 'forbid'; count?: number; match?: RequestMatch }
  | { kind: 'istioctl'; op: string; times?: number | 'always'; message?: string }
  /**
   * A write (POST/PUT/PATCH) fails with the API server's 500 InternalError for an admission webhook it cannot call
   * (`Internal error occurred: failed calling webhook "<webhook>": failed to call webhook: Post "https://<service>.
   * <namespace>.svc:443<path>?timeout=10s": <cause>`). Defaults: validation.istio.io, istiod, istio-system, /validate,
   * no-endpoints.
   */
  | {
      kind: 'webhook'
      count?: number
      match?: RequestMatch
      webhook?: string
      service?: string
      namespace?: string
      path?: string
      cause?: 'no-endpoints' | 'refused' | 'deadline'
    }
  /** For `istioctl remote-clusters`: istiod pods (name prefix `pod`, carrying `labels`) cannot reach remote `cluster`. */
  | { kind: 'unreachableFrom'; cluster: string; pod?: string; labels?: Record<string, string> }

export interface RecordedRequest {
  method: string
  /** URL path without the query. */
  path: string
  /** Path and query as received. */
  url: string
  userAgent: string
  /** Date.now() when received. */
  at: number
  /** True for the simulator's own /sim/… endpoints. */
  sim: boolean
}

export interface ApiServerOptions {
  name: string
  /** 1-based; the server also listens on 127.0.0.(index+1), same port. */
  index: number
  adminToken: string
  lb?: { mode: 'ip' | 'hostname' | 'none'; delayMs?: number }
  latencyMs?: number
  deploymentReadyDelayMs?: number
  /** Per istioctl operation, the delay GET /sim/v1/behaviour reports. */
  istioctlDelays?: Record<string, number>
  /**
   * The simulated `istioctl remote-clusters`: a remote cluster stays `syncing` for `syncMs` after istiod or its
   * secret appeared (default 1000), and turns `timeout` after `timeoutMs` when unreachable (default 3000; the
   * istiod pod's PILOT_REMOTE_CLUSTER_TIMEOUT env wins, as in istiod).
   */
  remoteClusters?: { syncMs?: number; timeoutMs?: number }
  /** Shared by the clusters of one simulation so an exec'd curl can reach peers (traffic.js); default: a mesh of its own. */
  mesh?: Mesh
  /** Image prefixes no node can pull from: their pods stay in ImagePullBackOff. Default: RETIRED_REGISTRIES. */
  unpullableRegistries?: string[]
}

/** Istio's registries decommissioned in December 2026: `registry.istio.io/release`, `gcr.io/istio-release`. */
export declare const RETIRED_REGISTRIES: string[]

/** What a cluster shows its peers in the mesh registry. */
export interface MeshPeer {
  name: string
  index: number
  store: Store
  caPem: string
  reachableHost: string
  port: number
  tokenIsValid(token: string): boolean
  /** Round-robin counters of requests from this cluster, per `ns/service:port`. */
  roundRobin: Map<string, number>
}

export declare class Mesh {
  add(peer: MeshPeer): void
  remove(peer: MeshPeer): void
  /** Registered clusters, by index. */
  readonly clusters: MeshPeer[]
  byName(name: string): MeshPeer | undefined
  byAddress(host: string, port: number): MeshPeer | undefined
  /** Who reaches what between the clusters, and injectable network faults (network.js). */
  readonly network: Network
}

/** The network between the clusters of one mesh (network.js). Each fault method returns its remover. */
export declare class Network {
  /** A firewall drops connections from `from` to `to`'s API server and gateway (or only `only`): connects time out. */
  firewall(from: string, to: string, only?: 'api-server' | 'gateway'): () => void
  /** From `from`, `to`'s API server is behind a TLS-intercepting proxy presenting a certificate of another CA. */
  intercept(from: string, to: string): Promise<() => Promise<void>>
  /** `cluster`'s gateway address is an L7 load balancer: it terminates TLS and answers HTTP itself. */
  l7Gateway(cluster: string): () => void
  /** `cluster`'s gateway forwards only `ms` after its address appeared in the Service status. */
  gatewayForwardsAfter(cluster: string, ms: number): () => void
  blocked(from: string, to: string, target?: 'api-server' | 'gateway'): boolean
  /** Where a TCP connection from a pod in `from` to host:port ends. */
  route(
    from: string,
    host: string,
    port: number
  ): Promise<
    | { kind: 'unresolvable' | 'refused' | 'timeout' }
    | { kind: 'connect'; host: string; port: number; peer?: MeshPeer; intercepted: boolean }
  >
  /** What answers at host:15443 from a pod in `from`. */
  gateway(
    from: string,
    host: string
  ): { kind: 'unresolvable' | 'refused' | 'timeout' | 'l7' | 'passthrough'; peer?: MeshPeer }
  gatewayProblem(from: string, to: string): string | undefined
  istiodView(from: string): { unreachable: string[] }
  close(): Promise<void>
}

export declare function createMesh(): Mesh

export interface SimCluster {
  name: string
  index: number
  /** https://127.0.0.1:<port>: what the kubeconfig points at. */
  url: string
  /** https://127.0.0.<index+1>:<port>: the address other clusters can reach. */
  reachableUrl: string
  caPem: string
  adminToken: string
  kubeconfig(contextName?: string): string
  store: Store
  requests: RecordedRequest[]
  /** Adds a fault (faults combine); returns a function removing just that one. */
  setFault(fault: Fault): () => void
  clearFaults(): void
  /** Replaces the unpullable registries for pods created from now on ([] = the world before December 2026). */
  setUnpullableRegistries(registries: string[]): void
  tokenIsValid(token: string): boolean
  issueToken(saNamespace: string, saName: string): string
  /** The mesh registry this cluster is part of. */
  mesh: Mesh
  close(): Promise<void>
}

export declare function startApiServer(opts: ApiServerOptions): Promise<SimCluster>
