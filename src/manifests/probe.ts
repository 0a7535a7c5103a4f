import { MANAGED_BY, MANAGED_BY_LABEL } from '../istio-names.js'
import { KubeObject } from './kubernetes.js'

/** Every probe runs in a namespace of its own, `<prefix>-<suffix>`, removed when it is done. */
export const PROBE_NAMESPACE_PREFIX = 'istio-multicluster-probe'
/** On the namespace, the Job and its pod: what `kubectl get -l` (and the simulator) recognise a probe by. */
export const PROBE_NAME_LABEL = 'app.kubernetes.io/name'
export const PROBE_NAME = 'istio-multicluster-probe'
const MOUNT = '/etc/probe'

/** Another cluster's API server as a remote secret names it: the CA and the token go into the mounted Secret. */
export interface ApiServerTarget {
  to: string
  url: string
  caPem?: string
  insecure?: boolean
  token?: string
}

/** Another cluster's east-west gateway address (an IP or a host name), probed on port 15443. */
export interface GatewayTarget {
  to: string
  host: string
}

export interface ProbeSpec {
  namespace: string
  image: string
  apiServers: ApiServerTarget[]
  gateways: GatewayTarget[]
  /** The Job's activeDeadlineSeconds: a pod that cannot finish is stopped by Kubernetes even if the action is gone. */
  deadlineSeconds: number
  /** Until when (seconds after the script started) a gateway that is not reachable yet is tried again; 0: once. */
  retrySeconds?: number
}

/** The env var that tells the script until when (seconds after it started) to retry a gateway not yet reachable. */
export const PROBE_RETRY_ENV = 'PROBE_RETRY_SECONDS'

/**
 * The probe's shell script (POSIX sh + curl 8: the default image is docker.io/curlimages/curl, Alpine's busybox sh).
 * For each target in /etc/probe/targets: the API server's /version, then a list of each kind istiod's remote cluster
 * controller watches, with the remote secret's CA (`--cacert`) and token (`-H @file`: the header is read from the
 * mounted file, so the token is in no argument), once; the gateway's port 15443 with a TLS handshake it does not
 * verify, tried again every 2 s while it is not reachable (curl exit 6 unresolvable, 7 refused, 28 timeout) until
 * $PROBE_RETRY_SECONDS after the script started (a load balancer forwards minutes after its address appears). One
 * tab-separated line per API server request and per gateway once it settles (or its last try): probe, target,
 * cluster, step, curl's exit code, HTTP code, the seconds since the script started, curl's error and the start of an
 * error body (an API server's Status: no credential). Nothing it reads from /etc/probe is printed.
 */
export const PROBE_SCRIPT = `# istio-multicluster-probe v2
D=${MOUNT}
start=$(date +%s)
retry=\${${PROBE_RETRY_ENV}:-0}
say() { printf 'probe\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3" "$4" "$5" "$(( $(date +%s) - start ))" "$(cat /tmp/err /tmp/body 2>/dev/null | tr '\\n\\t' '  ' | cut -c1-300)"; }
gateways=
while read -r kind to addr; do
  rm -f /tmp/err /tmp/body
  case "$kind" in
  api-server)
    if [ -f "$D/$to.ca.crt" ]; then tls="--cacert $D/$to.ca.crt"; else tls=--insecure; fi
    for step in version:/version namespaces:/api/v1/namespaces?limit=1 services:/api/v1/services?limit=1 pods:/api/v1/pods?limit=1 endpointslices:/apis/discovery.k8s.io/v1/endpointslices?limit=1; do
      code=$(curl -sS -o /tmp/body -w '%{http_code}' --connect-timeout 5 --max-time 10 $tls -H "@$D/$to.auth" "$addr\${step#*:}" 2>/tmp/err)
      rc=$?
      [ "$code" = 200 ] && rm -f /tmp/body
      say api-server "$to" "\${step%%:*}" "$rc" "$code"
      { [ "$rc" = 0 ] && [ "$code" = 200 ]; } || break
    done ;;
  gateway) gateways="$gateways $to=$addr" ;;
  esac
done < "$D/targets"
while [ -n "$gateways" ]; do
  pending=
  for g in $gateways; do
    to=\${g%%=*}; addr=\${g#*=}
    rm -f /tmp/err
    code=$(curl -sS -k -o /dev/null -w '%{http_code}' --connect-timeout 5 --max-time 10 "https://$addr:15443/" 2>/tmp/err)
    rc=$?
    case "$rc" in 6|7|28) [ $(( $(date +%s) - start + 2 )) -le "$retry" ] && { pending="$pending $g"; continue; } ;; esac
    say gateway "$to" connect "$rc" "$code"
  done
  gateways=$pending
  [ -z "$gateways" ] || sleep 2
done
printf 'probe\\tdone\\n'
`

const b64 = (s: string) => Buffer.from(s).toString('base64')

/** The Namespace, the Secret with the targets and credentials, and the Job; applied in this order. */
export function probeObjects(spec: ProbeSpec): KubeObject[] {
  const labels = { [PROBE_NAME_LABEL]: PROBE_NAME, [MANAGED_BY_LABEL]: MANAGED_BY }
  const ns = spec.namespace
  const lines = [
    ...spec.apiServers.map((t) => `api-server ${t.to} ${t.url}`),
    ...spec.gateways.map((g) => `gateway ${g.to} ${g.host}`)
  ]
  const data: Record<string, string> = { targets: b64(`${lines.join('\n')}\n`) }
  for (const t of spec.apiServers) {
    if (t.caPem) data[`${t.to}.ca.crt`] = b64(t.caPem)
    if (t.insecure) data[`${t.to}.insecure`] = b64('true')
    data[`${t.to}.auth`] = b64(t.token ? `Authorization: Bearer ${t.token}\n` : '\n')
  }
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'probe', namespace: ns, labels }, type: 'Opaque', data },
    {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'probe', namespace: ns, labels },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: spec.deadlineSeconds,
        ttlSecondsAfterFinished: 600,
        template: {
          // No sidecar: the probe tests the network as istiod and the gateways see it, not through a proxy.
          metadata: { labels: { ...labels, 'sidecar.istio.io/inject': 'false' } },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            containers: [
              {
                name: 'probe',
                image: spec.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/bin/sh', '-c', PROBE_SCRIPT],
                env: [{ name: PROBE_RETRY_ENV, value: String(spec.retrySeconds ?? 0) }],
                volumeMounts: [{ name: 'probe', mountPath: MOUNT, readOnly: true }],
                // Pod Security "restricted". A numeric runAsUser: curlimages/curl names its USER (curl_user),
                // which the kubelet cannot check against runAsNonRoot; the script needs only the world-writable /tmp.
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ['ALL'] },
                  runAsNonRoot: true,
                  runAsUser: 100,
                  seccompProfile: { type: 'RuntimeDefault' }
                }
              }
            ],
            volumes: [{ name: 'probe', secret: { secretName: 'probe' } }]
          }
        }
      }
    }
  ]
}
