/** Kubeconfigs of the shapes real users bring; tokens carry a canary so tests can prove they never leak. */
export const CANARY = 'CANARY-7f3a'

export function tokenKubeconfig(
  context: string,
  server = 'https://127.0.0.1:6443',
  token = `${CANARY}-token-${context}`
): string {
  return `apiVersion: v1
kind: Config
clusters:
- name: ${context}
  cluster:
    server: ${server}
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
contexts:
- name: ${context}
  context:
    cluster: ${context}
    user: admin
current-context: ${context}
users:
- name: admin
  user:
    token: ${token}
`
}

export const EKS_EXEC = `apiVersion: v1
kind: Config
clusters:
- name: arn:aws:eks:us-east-1:111122223333:cluster/east
  cluster:
    server: https://ABCDEF.gr7.us-east-1.eks.amazonaws.com
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
contexts:
- name: arn:aws:eks:us-east-1:111122223333:cluster/east
  context:
    cluster: arn:aws:eks:us-east-1:111122223333:cluster/east
    user: arn:aws:eks:us-east-1:111122223333:cluster/east
users:
- name: arn:aws:eks:us-east-1:111122223333:cluster/east
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [--region, us-east-1, eks, get-token, --cluster-name, east, --output, json]
      env:
      - name: AWS_PROFILE
        value: ci
      interactiveMode: Never
`

export const GKE_EXEC = `apiVersion: v1
kind: Config
clusters:
- name: gke_proj_europe-west1_west
  cluster:
    server: https://34.1.2.3
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
    proxy-url: http://proxy.internal:3128
contexts:
- name: gke_proj_europe-west1_west
  context: {cluster: gke_proj_europe-west1_west, user: gke_proj_europe-west1_west}
users:
- name: gke_proj_europe-west1_west
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: Install gke-gcloud-auth-plugin
      provideClusterInfo: true
`

export const CLIENT_CERT = `apiVersion: v1
kind: Config
clusters:
- name: onprem
  cluster:
    server: https://10.0.0.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: onprem-admin
  context: {cluster: onprem, user: onprem-admin, namespace: default}
users:
- name: onprem-admin
  user:
    client-certificate: certs/admin.crt
    client-key-data: ${Buffer.from(`-----BEGIN PRIVATE KEY-----\n${CANARY}KEYLINEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n`).toString('base64')}
`

/** A ConfigSource over plain objects, for parseConfig. */
export function source(
  inputs: Record<string, string>,
  env: Record<string, string | undefined> = {},
  files: Record<string, string> = {}
) {
  return {
    input: (name: string) => inputs[name] ?? '',
    env: { HOME: '/nonexistent-home', ...env },
    readFile: (f: string) => {
      if (f in files) return files[f]
      const e = new Error(`ENOENT: ${f}`) as NodeJS.ErrnoException
      e.code = 'ENOENT'
      throw e
    }
  }
}
