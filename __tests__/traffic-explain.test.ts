// Why a traffic check failed, from the client proxy's endpoints (src/traffic-explain.ts): pure parts.
import { describe, expect, it } from '@jest/globals'
import { ClusterEvidence, classifyEndpoints, explainCause, parseEndpoints } from '../src/traffic-explain.js'

// What istioctl 1.30.3 prints for proxy-config endpoint -o json: jsonpb (lowerCamelCase) ClusterStatus messages.
const JSON_OUTPUT = JSON.stringify(
  [
    {
      name: 'outbound|5000||helloworld.istio-multicluster-verify.svc.cluster.local',
      addedViaApi: true,
      hostStatuses: [
        {
          address: { socketAddress: { address: '10.244.1.10', portValue: 5000 } },
          healthStatus: { edsHealthStatus: 'HEALTHY' }
        },
        {
          address: { socketAddress: { address: '192.0.2.2', portValue: 15443 } },
          healthStatus: { edsHealthStatus: 'HEALTHY' }
        }
      ]
    }
  ],
  null,
  4
)

const evidence = (name: string, extra: Partial<ClusterEvidence> = {}): ClusterEvidence => ({
  name,
  podIps: [],
  labels: { namespace: `network-${name}`, gateway: `network-${name}`, pods: [undefined] },
  ...extra
})

describe('traffic explanation', () => {
  it('parses the endpoints of istioctl proxy-config endpoint -o json', () => {
    expect(parseEndpoints(JSON_OUTPUT)).toEqual(['10.244.1.10:5000', '192.0.2.2:15443'])
    expect(parseEndpoints('[]')).toEqual([])
  })

  it('per peer: its pod IPs, its gateway, or nothing of it', () => {
    const peers = [
      evidence('c2', { podIps: ['10.244.2.10'], gateway: '192.0.2.2' }),
      evidence('c3', { podIps: ['10.244.3.10'], gateway: '192.0.2.3' }),
      evidence('c4', { podIps: ['10.244.4.10'], gateway: '192.0.2.4' })
    ]
    expect(classifyEndpoints(['10.244.1.10:5000', '192.0.2.2:15443', '10.244.3.10:5000'], peers)).toEqual([
      { peer: 'c2', kind: 'gateway', gateway: '192.0.2.2' },
      { peer: 'c3', kind: 'pod-ips', ips: ['10.244.3.10'] },
      { peer: 'c4', kind: 'discovery' }
    ])
  })

  const client = evidence('c1', { root: 'a'.repeat(64) })
  it('pod IPs of a peer on another network: the three labels named', () => {
    const peer = evidence('c2', { labels: { namespace: 'network2', gateway: 'network2-gw', pods: [undefined] } })
    expect(explainCause(client, peer, { peer: 'c2', kind: 'pod-ips', ips: ['10.244.2.10'] })).toBe(
      `c1's proxy sends helloworld traffic for c2 to its pod IPs 10.244.2.10 instead of its east-west gateway: istiod knows no gateway for the pods' network. topology.istio.io/network in c2: namespace istio-system "network2", Service istio-eastwestgateway "network2-gw", helloworld pods (none); they must name one network (the cluster's network in the clusters input)`
    )
  })

  it('the gateway in the endpoints: the probe first, then the roots', () => {
    const peer = evidence('c2', { root: 'b'.repeat(64) })
    const cause = { peer: 'c2', kind: 'gateway' as const, gateway: '192.0.2.2' }
    const probe = (status: 'reachable' | 'not-passthrough') => ({
      from: 'c1',
      to: 'c2',
      target: 'gateway' as const,
      address: '192.0.2.2:15443',
      status,
      detail: ''
    })
    expect(explainCause(client, peer, cause, probe('not-passthrough'))).toMatch(
      /^c1's proxy sends .* to its gateway 192\.0\.2\.2:15443, and requests fail: c1 cannot use c2's east-west gateway .*L4 \(network\) load balancer/
    )
    expect(explainCause(client, peer, cause, probe('reachable'))).toMatch(
      /which is reachable, and requests fail: the roots of trust differ \(cacerts root-cert\.pem sha256 in c1: aaaaaaaaaaaa, in c2: bbbbbbbbbbbb\)/
    )
    expect(explainCause(client, { ...peer, root: client.root }, cause, probe('reachable'))).toMatch(
      /with one root of trust/
    )
  })

  it('nothing of a peer: discovery', () => {
    expect(explainCause(client, evidence('c2'), { peer: 'c2', kind: 'discovery' })).toMatch(
      /^c1's proxy has no endpoint of helloworld in c2: c1's istiod does not read c2/
    )
  })
})
