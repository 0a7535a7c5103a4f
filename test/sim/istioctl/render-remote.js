// What the istio-discovery chart renders for `profile: remote` (manifests/charts/istio-control/istio-discovery @1.30.3,
// files/profile-remote.yaml: istiodRemote.enabled, configMap: false, global.omitSidecarInjectorConfigMap): a cluster
// without istiod, whose injector and xDS are the primary's istiod at global.remotePilotAddress.
// - deployment.yaml, service.yaml, serviceaccount.yaml, clusterrole*.yaml, role*.yaml, validatingwebhookconfiguration
//   .yaml, autoscale.yaml, poddisruptionbudget.yaml: only `if or (not istiodRemote.enabled) (… configCluster /
//   enabledLocalInjectorIstiod)` → none of them (no istiod Deployment, Service, RBAC or validation webhook).
// - istiod-injector-configmap.yaml: not with omitSidecarInjectorConfigMap; configmap.yaml (`istio`): not with
//   configMap: false.
// - mutatingwebhook.yaml: istio-sidecar-injector[-rev], clientConfig.url = istiodRemote.injectionURL if set, else
//   service istiod[-rev] in the namespace, path istiodRemote.injectionPath, port 443.
// - remote-istiod-service.yaml + remote-istiod-endpointslices.yaml (only with remotePilotAddress): Service istiod[-rev]
//   without selector (ports 15012, 443→15017) and, for an IP address, an EndpointSlice istiod[-rev] holding it; for a
//   host name the Service is type ExternalName instead.
// - reader-clusterrole.yaml: the reader's rules plus, for a remote, configmaps (create/get/list/watch/update) and the
//   webhook configurations (the primary's istiod patches their caBundle and writes istio-ca-root-cert through it).
import { istioLabels, readerObjects, UNKNOWN_OWNER } from './render.js'

const IPV4 = /^([0-9]*\.){3}[0-9]*$/
const IPV6 = /^([0-9a-fA-F]*:)+[0-9a-fA-F]*$/

/** values.profile remote turns on files/profile-remote.yaml; istiodRemote.enabled alone does the same for the templates. @param {any} values */
export function isRemoteProfile(values) {
  const enabled = values?.istiodRemote?.enabled
  return enabled === true || (values?.profile === 'remote' && enabled !== false)
}

/** @param {any} c the render context (render.js ctxOf) */
export function renderRemotePilot(c) {
  const name = `istiod${c.suffix}`
  const remote = c.values.istiodRemote || {}
  const address = String(c.global.remotePilotAddress || '')
  const labels = {
    'istio.io/rev': c.revLabel,
    'app.kubernetes.io/name': 'istiod',
    ...istioLabels(c)
  }
  const clientConfig = remote.injectionURL
    ? { url: remote.injectionURL }
    : { service: { name, namespace: c.ns, path: remote.injectionPath || '/inject', port: 443 } }
  const injectorWebhook = (/** @type {string} */ prefix, /** @type {object} */ namespaceSelector) => ({
    name: `${prefix}sidecar-injector.istio.io`,
    clientConfig,
    sideEffects: 'None',
    rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
    failurePolicy: 'Fail',
    reinvocationPolicy: 'Never',
    admissionReviewVersions: ['v1'],
    namespaceSelector
  })
  const reader = readerObjects(c.ns, c.rev, c.version).map((/** @type {any} */ o) =>
    o.kind === 'ClusterRole'
      ? {
          ...o,
          rules: [
            ...o.rules,
            { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'watch', 'update'] },
            {
              apiGroups: ['admissionregistration.k8s.io'],
              resources: ['mutatingwebhookconfigurations'],
              verbs: ['get', 'list', 'watch', 'update', 'patch']
            },
            {
              apiGroups: ['admissionregistration.k8s.io'],
              resources: ['validatingwebhookconfigurations'],
              verbs: ['get', 'list', 'watch', 'update']
            }
          ]
        }
      : o
  )
  /** @type {any[]} */
  const objects = [
    ...reader,
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: {
        name: `istio-sidecar-injector${c.suffix}`,
        labels: {
          ...labels,
          ...UNKNOWN_OWNER,
          'operator.istio.io/component': 'Pilot',
          app: 'sidecar-injector',
          release: 'istiod'
        }
      },
      webhooks: [
        injectorWebhook('rev.namespace.', {
          matchExpressions: [
            { key: 'istio.io/rev', operator: 'In', values: [c.revLabel] },
            { key: 'istio-injection', operator: 'DoesNotExist' }
          ]
        }),
        ...(c.rev
          ? []
          : [
              injectorWebhook('namespace.', {
                matchExpressions: [{ key: 'istio-injection', operator: 'In', values: ['enabled'] }]
              })
            ])
      ]
    }
  ]
  if (address) {
    const isIp = IPV4.test(address) || IPV6.test(address)
    objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: c.ns, labels },
      spec: {
        ports: [
          { port: 15012, name: 'tcp-istiod', protocol: 'TCP' },
          { port: 443, targetPort: 15017, name: 'tcp-webhook', protocol: 'TCP' }
        ],
        ...(isIp ? {} : { type: 'ExternalName', externalName: address })
      }
    })
    if (isIp)
      objects.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, namespace: c.ns, labels: { 'kubernetes.io/service-name': name, ...labels } },
        addressType: IPV4.test(address) ? 'IPv4' : 'IPv6',
        endpoints: [{ addresses: [address] }],
        ports: [
          { port: 15012, name: 'tcp-istiod', protocol: 'TCP' },
          { port: 15017, name: 'tcp-webhook', protocol: 'TCP' }
        ]
      })
  }
  return objects
}
