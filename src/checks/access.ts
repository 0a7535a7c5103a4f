// api-server-from-runner/<cluster>: the runner reads each cluster's istio-system with the given credentials (what
// install reads first). A failure is classified from kubectl's stderr, so the hint says what to fix.
import { Check } from './types.js'

export const ACCESS_CHECK = 'api-server-from-runner'

interface Cause {
  id: 'unauthorized' | 'forbidden' | 'tls' | 'dns' | 'refused' | 'timeout'
  test: RegExp
  cause: string
  hint: string
}

// kubectl's wording (k8s.io/client-go and kubectl's error printer); the first match wins.
export const ACCESS_CAUSES: Cause[] = [
  {
    id: 'unauthorized',
    // kubectl 1.32 prints the 401's message: "You must be logged in to the server (the server has asked for the client…)"
    test: /You must be logged in to the server|Unauthorized/,
    cause: 'the credentials were refused (401 Unauthorized)',
    hint: "Renew the cluster's kubeconfig or token (cloud tokens expire: fetch one in the job, e.g. aws eks update-kubeconfig / gke-gcloud-auth-plugin)."
  },
  {
    id: 'forbidden',
    test: /\(Forbidden\)|forbidden/,
    cause: 'the credentials may not read istio-system (403 Forbidden)',
    hint: 'Give the identity in the kubeconfig cluster-admin (install creates namespaces, CRDs, webhooks and cluster roles).'
  },
  {
    id: 'tls',
    test: /x509:|certificate signed by unknown authority|tls: failed to verify/,
    cause: "the API server's TLS certificate is not trusted by the kubeconfig's CA",
    hint: "Use the kubeconfig's certificate-authority-data for this cluster; a proxy that intercepts TLS needs its CA there instead."
  },
  {
    id: 'dns',
    test: /no such host|server misbehaving|lookup .* on /,
    cause: "the API server's host name does not resolve on the runner",
    hint: "Check the server address in the kubeconfig; a private cluster's endpoint is not visible from GitHub-hosted runners (use a self-hosted runner in its network)."
  },
  {
    id: 'refused',
    test: /connection refused|was refused/,
    cause: 'the connection to the API server was refused',
    hint: 'Check the server address and port in the kubeconfig, and that the cluster is running.'
  },
  {
    id: 'timeout',
    test: /i\/o timeout|Client\.Timeout|deadline exceeded|timed out|TLS handshake timeout/,
    cause: 'the API server did not answer in time',
    hint: "Check that the runner can reach the API server (firewall, authorized networks of a managed cluster's endpoint)."
  }
]

/** What a failed read of one cluster means, from the error (command, stderr tail) it failed with. */
export function accessFailure(cluster: string, error: string): Check {
  const found = ACCESS_CAUSES.find((c) => c.test.test(error))
  const last = error.trim().split('\n').pop() ?? ''
  return {
    id: `${ACCESS_CHECK}/${cluster}`,
    status: 'fail',
    cluster,
    message: `the runner cannot read ${cluster}: ${found ? found.cause : 'the read failed'} (${last})`,
    hint: found?.hint ?? 'Run the command in the message with the same kubeconfig to see why.'
  }
}

export function accessOk(cluster: string, namespaceExists: boolean): Check {
  return {
    id: `${ACCESS_CHECK}/${cluster}`,
    status: 'pass',
    cluster,
    message: `the runner reads ${cluster}'s API server with the given credentials (istio-system ${namespaceExists ? 'exists' : 'does not exist yet'})`
  }
}
