import { Config } from './index.js'

/** Clusters that share a network: Istio sends traffic between their pods directly, so they must reach each other. */
export function networkWarnings(config: Config): string[] {
  const byNetwork = new Map<string, string[]>()
  for (const c of config.clusters) byNetwork.set(c.network, [...(byNetwork.get(c.network) ?? []), c.name])
  return [...byNetwork]
    .filter(([, names]) => names.length > 1)
    .map(
      ([n, names]) =>
        `clusters ${names.join(', ')} share network "${n}": Istio then sends traffic straight to pod IPs between them, which only works if their pods can reach each other (same network). Give each cluster its own network otherwise.`
    )
}
