#!/usr/bin/env bash
# The baseline of `npm run bench`: Istio's guide "Install Multi-Primary on different networks" as a plain shell
# script, one cluster after the other, then the remote secrets pairwise, exactly as a person pastes the documented
# steps into a workflow. Nothing here runs concurrently.
#
#   KUBECONFIG  one kubeconfig file with a context per cluster, named as the cluster
#   ISTIOCTL    the istioctl binary (default: istioctl on the PATH)
#   CLUSTERS    "name:network:api-server name:network:api-server …" (api-server: what other clusters reach, as --server)
#   MESH_ID     default mesh1
#   PHASES      "install secrets" (default: the whole guide) or "path" (only one cluster's critical path:
#               namespace → control plane → east-west gateway → its address; what `npm run bench` calls the serial
#               limit) or "overlap" (the same, but the gateway's LoadBalancer Service is created right after the
#               namespace, so the cloud provisions it while the installs run: the overlapped limit)
#
# The guide creates istio-system with `kubectl create namespace` and then labels it; the simulated API server takes
# JSON only (no protobuf `create`), so the namespace and its network label are one `kubectl apply`: one process
# fewer than the guide, to the baseline's advantage. Waiting for the gateway's address is the guide's "wait for the
# east-west gateway to be assigned an external IP address", done with `kubectl wait` (a watch), not by hand.
set -euo pipefail

ISTIOCTL="${ISTIOCTL:-istioctl}"
MESH_ID="${MESH_ID:-mesh1}"
PHASES="${PHASES:-install secrets}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

mark() { printf '%s %s\n' "${EPOCHREALTIME/./}" "$*"; }   # microseconds since the epoch, then what happened

# samples/multicluster/gen-eastwest-gateway.sh --network <network>, as the guide pipes it into istioctl install.
gen_eastwest_gateway() {
  cat <<EOF
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: eastwest
spec:
  revision: ""
  profile: empty
  components:
    ingressGateways:
      - name: istio-eastwestgateway
        label:
          istio: eastwestgateway
          app: istio-eastwestgateway
          topology.istio.io/network: $1
        enabled: true
        k8s:
          env:
            # traffic through this gateway should be routed inside the network
            - name: ISTIO_META_REQUESTED_NETWORK_VIEW
              value: $1
          service:
            ports:
              - name: status-port
                port: 15021
                targetPort: 15021
              - name: tls
                port: 15443
                targetPort: 15443
              - name: tls-istiod
                port: 15012
                targetPort: 15012
              - name: tls-webhook
                port: 15017
                targetPort: 15017
  values:
    gateways:
      istio-ingressgateway:
        injectionTemplate: gateway
    global:
      network: $1
EOF
}

# The east-west gateway's Service as the gateway install renders it (name, labels, selector, ports, type): created
# ahead of the installs, it starts the load balancer; the gateway install then takes it over.
gateway_service() {
  cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels:
    app: istio-eastwestgateway
    istio: eastwestgateway
    topology.istio.io/network: $1
spec:
  type: LoadBalancer
  selector:
    app: istio-eastwestgateway
    istio: eastwestgateway
    topology.istio.io/network: $1
  ports:
    - { name: status-port, port: 15021, targetPort: 15021 }
    - { name: tls, port: 15443, targetPort: 15443 }
    - { name: tls-istiod, port: 15012, targetPort: 15012 }
    - { name: tls-webhook, port: 15017, targetPort: 15017 }
EOF
}

install_cluster() {
  local ctx="$1" network="$2" overlap="${3:-}"
  mark "$ctx namespace"
  # "Set the default network for cluster1"
  kubectl --context="$ctx" apply -f - <<EOF
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
  labels:
    topology.istio.io/network: $network
EOF
  if [[ -n "$overlap" ]]; then
    mark "$ctx lb-service"
    gateway_service "$network" | kubectl --context="$ctx" apply -f -
  fi
  # "Configure cluster1 as a primary"
  mark "$ctx control-plane"
  # The guide's file plus spec.hub: 1.30.x would pull from registry.istio.io/release, retired in December 2026.
  cat <<EOF >"$WORK/$ctx.yaml"
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  hub: docker.io/istio
  values:
    global:
      meshID: $MESH_ID
      multiCluster:
        clusterName: $ctx
      network: $network
EOF
  "$ISTIOCTL" install --context="$ctx" -y -f "$WORK/$ctx.yaml"
  # "Install the east-west gateway in cluster1"
  mark "$ctx eastwest-gateway"
  gen_eastwest_gateway "$network" | "$ISTIOCTL" --context="$ctx" install -y -f -
  # "Wait for the east-west gateway to be assigned an external IP address"
  mark "$ctx gateway-address"
  kubectl --context="$ctx" wait -n istio-system svc/istio-eastwestgateway --for=jsonpath='{.status.loadBalancer.ingress}' --timeout=5m
  mark "$ctx address-seen"
}

expose_services() {
  local ctx="$1"
  mark "$ctx expose-services"
  # "Expose services in cluster1": samples/multicluster/expose-services.yaml
  kubectl --context="$ctx" apply -n istio-system -f - <<EOF
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: cross-network-gateway
spec:
  selector:
    istio: eastwestgateway
  servers:
    - port:
        number: 15443
        name: tls
        protocol: TLS
      tls:
        mode: AUTO_PASSTHROUGH
      hosts:
        - "*.local"
EOF
}

read -r -a clusters <<<"${CLUSTERS:?CLUSTERS: name:network:api-server …}"

if [[ " $PHASES " == *" path "* || " $PHASES " == *" overlap "* ]]; then
  IFS=: read -r name network _ <<<"${clusters[0]}"
  install_cluster "$name" "$network" "$([[ " $PHASES " == *" overlap "* ]] && echo overlap)"
  mark "done"
  exit 0
fi

if [[ " $PHASES " == *" install "* ]]; then
  for c in "${clusters[@]}"; do
    IFS=: read -r name network _ <<<"$c"
    install_cluster "$name" "$network"
    expose_services "$name"
  done
fi

# "Enable Endpoint Discovery": for every ordered pair, the source's remote secret applied to the target.
if [[ " $PHASES " == *" secrets "* ]]; then
  for src in "${clusters[@]}"; do
    IFS=: read -r sname _ sserver <<<"$src"
    for dst in "${clusters[@]}"; do
      IFS=: read -r dname _ _ <<<"$dst"
      [[ "$sname" == "$dname" ]] && continue
      mark "$sname→$dname remote-secret"
      "$ISTIOCTL" create-remote-secret --context="$sname" --name="$sname" --server="$sserver" | kubectl apply -f - --context="$dname"
    done
  done
fi
mark "done"
