// Workloads on the registries Istio retired: what the first read of a cluster finds, and what the warnings say.
import { describe, expect, it } from '@jest/globals'
import { parseConfig } from '../src/config/index.js'
import { parseClusterState } from '../src/state.js'
import { retiredImageNote, retiredImageWarnings } from '../src/retired-registries.js'
import { source, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'

const KC = tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')
const config = (extra: Record<string, string> = {}) =>
  parseConfig(source({ clusters: '- {name: c1, network: n1}\n- {name: c2, network: n2}', kubeconfig: KC, ...extra }))

const managed = (rev = 'default') => ({ 'operator.istio.io/managed': 'Reconcile', 'istio.io/rev': rev })
const deployment = (name: string, image: string, labels: Record<string, string> = managed()) => ({
  kind: 'Deployment',
  metadata: { name, labels, resourceVersion: '1' },
  spec: { template: { spec: { containers: [{ name: 'c', image }] } } }
})
// As a real cluster has them: owned by the ReplicaSet <deployment>-<pod-template-hash>.
const pod = (name: string, owner: string, hash: string, image: string) => ({
  kind: 'Pod',
  metadata: {
    name,
    labels: { 'pod-template-hash': hash },
    ownerReferences: [{ kind: 'ReplicaSet', name: `${owner}-${hash}` }],
    resourceVersion: '9'
  },
  spec: { containers: [{ name: 'istio-proxy', image }] }
})

describe('retired registries', () => {
  const list = {
    items: [
      deployment('istiod', 'registry.istio.io/release/pilot:1.30.3'),
      pod('istiod-5d9f7c-abcde', 'istiod', '5d9f7c', 'registry.istio.io/release/pilot:1.30.3'),
      deployment('istio-eastwestgateway', 'auto'),
      pod('istio-eastwestgateway-77f9-xyz12', 'istio-eastwestgateway', '77f9', 'gcr.io/istio-release/proxyv2:1.29.4'),
      deployment('istiod-1-29-4', 'registry.istio.io/release/pilot:1.29.4', managed('1-29-4')),
      deployment('my-tool', 'registry.istio.io/release/pilot:1.30.3', {}),
      deployment('fine', 'docker.io/istio/pilot:1.30.3')
    ]
  }
  const state = parseClusterState('', JSON.stringify(list))

  it('finds them per workload, injected images through the pods of their ReplicaSet, without counting pods as changes', () => {
    expect(state.retiredImages).toEqual([
      {
        kind: 'Deployment',
        name: 'istiod',
        image: 'registry.istio.io/release/pilot:1.30.3',
        registry: 'registry.istio.io/release',
        managed: true,
        revision: 'default'
      },
      {
        kind: 'Deployment',
        name: 'istiod-1-29-4',
        image: 'registry.istio.io/release/pilot:1.29.4',
        registry: 'registry.istio.io/release',
        managed: true,
        revision: '1-29-4'
      },
      {
        kind: 'Deployment',
        name: 'my-tool',
        image: 'registry.istio.io/release/pilot:1.30.3',
        registry: 'registry.istio.io/release',
        managed: false
      },
      {
        kind: 'Deployment',
        name: 'istio-eastwestgateway',
        image: 'gcr.io/istio-release/proxyv2:1.29.4',
        registry: 'gcr.io/istio-release',
        managed: true,
        revision: 'default',
        injectedInto: 'istio-eastwestgateway-77f9-xyz12'
      }
    ])
    expect(Object.keys(state.versions).filter((k) => k.startsWith('Pod/'))).toEqual([])
  })

  it('warns with cluster, workload, image, and what install does about each', () => {
    const w = retiredImageWarnings(config(), new Map([['c1', state]]))
    const from = (r: string) => `from a registry Istio retired in December 2026 (${r})`
    expect(w).toEqual([
      `c1: Deployment istio-system/istiod runs registry.istio.io/release/pilot:1.30.3, ${from('registry.istio.io/release')}; install moves it to hub docker.io/istio.`,
      `c1: Deployment istio-system/istiod-1-29-4 runs registry.istio.io/release/pilot:1.29.4, ${from('registry.istio.io/release')}; install leaves it alone (revision 1-29-4, this run installs default); it stops pulling once that revision is removed.`,
      `c1: Deployment istio-system/my-tool runs registry.istio.io/release/pilot:1.30.3, ${from('registry.istio.io/release')}; install does not manage it: point its image at docker.io/istio (or your mirror) yourself.`,
      `c1: Deployment istio-system/istio-eastwestgateway runs gcr.io/istio-release/proxyv2:1.29.4 (injected into pod istio-eastwestgateway-77f9-xyz12), ${from('gcr.io/istio-release')}; install does not restart it: after install, run kubectl rollout restart deployment/istio-eastwestgateway -n istio-system in c1 so its pods take hub docker.io/istio.`
    ])
    expect(retiredImageNote(new Map([['c1', state]]))).toEqual({
      registries: ['registry.istio.io/release', 'gcr.io/istio-release'],
      restart: ['kubectl rollout restart deployment/istio-eastwestgateway -n istio-system --context c1']
    })
  })

  it('warns when hub itself is a retired registry; nothing found, nothing said', () => {
    const clean = parseClusterState(
      '',
      JSON.stringify({ items: [deployment('istiod', 'my-mirror.example/istio/pilot:1.30.3')] })
    )
    expect(retiredImageWarnings(config({ hub: 'my-mirror.example/istio' }), new Map([['c1', clean]]))).toEqual([])
    expect(retiredImageNote(new Map([['c1', clean]]))).toBeUndefined()
    expect(retiredImageWarnings(config({ hub: 'gcr.io/istio-release/x' }), new Map())[0]).toMatch(
      /^hub is gcr\.io\/istio-release\/x, under gcr\.io\/istio-release, a registry/
    )
    expect(retiredImageWarnings(config({ hub: 'registry.istio.io/release' }), new Map())).toEqual([
      'hub is registry.istio.io/release, a registry Istio retired in December 2026: pods that start now cannot pull their images; use docker.io/istio or a mirror of it.'
    ])
  })
})
