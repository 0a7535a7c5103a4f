// The benchmark reads step kinds from the id at the end of each `▸` line, never from titles.
import { describe, expect, it } from '@jest/globals'
import { stepEventReader } from './timeline.js'

const readAll = (lines: string[]) => {
  const read = stepEventReader()
  return lines.map(read)
}

describe('stepEventReader', () => {
  it('takes the kind from the id of the start line, and the end from the group header that names the same step', () => {
    expect(
      readAll([
        '▸ slow · namespace istio-system (network network2) [slow/namespace]',
        '▸ slow · root of trust (cacerts, ca: generate) [slow/root-of-trust]',
        '::group::✔ slow · namespace istio-system (network network2) (0.4 s)',
        'namespace/istio-system created',
        '::endgroup::',
        '::group::✖ slow · root of trust (cacerts, ca: generate) (1.2 s): no key',
        '▸ c1 · gateway address [c1/gateway-address]',
        '::group::✔ c1 · gateway address (2.0 s): 172.18.255.1'
      ])
    ).toEqual([
      { cluster: 'slow', step: 'namespace', event: 'start' },
      { cluster: 'slow', step: 'root-of-trust', event: 'start' },
      { cluster: 'slow', step: 'namespace', event: 'ok' },
      undefined,
      undefined,
      { cluster: 'slow', step: 'root-of-trust', event: 'failed' },
      { cluster: 'c1', step: 'gateway-address', event: 'start' },
      { cluster: 'c1', step: 'gateway-address', event: 'ok' }
    ])
  })

  it('reads no kind from a title: a start line without an id, and the group of a step it never saw start, are no events', () => {
    expect(
      readAll([
        '▸ c1 · control plane (istioctl install)',
        '::group::✔ c1 · control plane (istioctl install) (3.1 s)',
        "::group::✔ mesh · read each cluster's istio-system (0.8 s)",
        '⏭ c2 · east-west gateway: skipped, control plane failed'
      ])
    ).toEqual([undefined, undefined, undefined, undefined])
  })

  it('tells apart two titles where one begins with the other', () => {
    expect(
      readAll([
        '▸ c1 · verify [c1/verify]',
        '▸ c1 · verify: helloworld v1, v2 answer [c1/verify-traffic]',
        '::group::✔ c1 · verify: helloworld v1, v2 answer (4.0 s)',
        '::group::✔ c1 · verify (1.0 s): 1 remote cluster synced'
      ])
    ).toEqual([
      { cluster: 'c1', step: 'verify', event: 'start' },
      { cluster: 'c1', step: 'verify-traffic', event: 'start' },
      { cluster: 'c1', step: 'verify-traffic', event: 'ok' },
      { cluster: 'c1', step: 'verify', event: 'ok' }
    ])
  })
})
