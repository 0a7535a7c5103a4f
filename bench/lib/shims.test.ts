// What the bench calls a command in its CPU-per-call figures and --trace: its verb and object, never a flag's value.
import { describe, expect, it } from '@jest/globals'
import { commandWords } from './shims.js'

describe('commandWords', () => {
  it('drops flags, their values, paths and URLs', () => {
    expect(commandWords('install -y -f - --readiness-timeout 5m0s --kubeconfig /tmp/k --context slow'.split(' '))).toBe(
      'install'
    )
    expect(
      commandWords(
        '--kubeconfig /tmp/k --context c1 --request-timeout=30s get namespaces,secrets -n istio-system -o json'.split(
          ' '
        )
      )
    ).toBe('get namespaces,secrets')
    expect(
      commandWords(
        'create-remote-secret --name c1 --server https://10.0.0.1:6443 --kubeconfig /k --context c1'.split(' ')
      )
    ).toBe('create-remote-secret')
    expect(commandWords('--context=c2 wait -n istio-system svc/x --timeout=5m'.split(' '))).toBe('wait svc/x')
  })
})
