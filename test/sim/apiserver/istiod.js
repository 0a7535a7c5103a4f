// What the simulated istiod's built-in CA loads from the `cacerts` Secret mounted at /etc/cacerts, when its pod starts
// and when the Secret changes under it. Followed sources (Istio 1.30.3):
//
// - pilot/pkg/bootstrap/istio_ca.go createIstioCA: the signing files are those of the kubernetes.io/tls form when
//   `tls.crt` exists (tls.crt, tls.key, ca.crt), else ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem
//   (detectSigningCABundleAndCRL). None of them → a self-signed CA (istio-ca-secret). Some but not all → the error
//   "failed to create an istiod CA: incomplete signing CA bundle detected". All → "Use local CA certificate":
//   ca.NewPluggedCertIstioCAOptions → util.NewVerifiedKeyCertBundleFromFile → Verify, and only then
//   initCACertsAndCRLWatcher: an fsnotify watch of /etc/cacerts exists ONLY for an istiod that started plugged-in.
//   A self-signed istiod never looks at cacerts again: it keeps its own root until it restarts.
// - security/pkg/pki/util/keycertbundle.go Verify: x509 Verify of the signing cert through cert-chain to root-cert at
//   the current time — every certificate of the chain, the root included, must be within its validity — then the
//   key must parse and match. The error, wrapped by NewPluggedCertIstioCAOptions ("failed to create CA KeyCertBundle
//   (…)"), createIstioCA ("failed to create an istiod CA: …"), server.go maybeCreateCA ("failed to create CA: …") and
//   pilot-discovery's cmd.go ("failed to create discovery service: …"), ends the process: main.go log.Error +
//   os.Exit(-1), i.e. exit code 255, and the pod crash-loops. The x509 wording is Go's crypto/x509 verify.go:
//   "x509: certificate has expired or is not yet valid: current time <RFC 3339> is after <RFC 3339>".
// - istio_ca.go handleEvent (the watch of a plugged-in istiod): a new root-cert.pem that differs from the loaded root is
//   refused ("Multi root is disabled, updating new ROOT-CA not supported"; ISTIO_MULTIROOT_MESH defaults to false);
//   with the same root the new bundle is verified (UpdateVerifiedKeyCertBundleFromFile) and, if it passes, istiod
//   signs with the new intermediate; if not, it logs "Failed to update new Plug-in CA certs" and keeps the old one.
//
// Recorded on the istiod Deployment: ROOT_ANNOTATION (sha256 of the root file, or "self-signed") and CA_ANNOTATION
// (sha256 of the signing certificate file). Only istiods installed by istioctl (label operator.istio.io/component=
// Pilot) are modelled; a Deployment a test puts by hand keeps the annotations it was given.
// NOT MODELLED: kubelet's delay in updating a mounted Secret (~1 min; here instant), the restart back-off of a
// crash-looping container (real kubelet restarts it and it would start once cacerts is valid; here it stays down until
// its pod is replaced), a rolling update that keeps the old pod serving while the new one crash-loops, CRLs,
// USE_CACERTS_FOR_SELF_SIGNED_CA / the istio-generated key, ISTIO_MULTIROOT_MESH.
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'

/** @typedef {import('./index.js').KubeObject} KubeObject */
/** @typedef {{ cert?: string, key?: string, root?: string, chain?: string }} SigningFiles decoded; undefined when absent */

export const ROOT_ANNOTATION = 'sim.istio.io/root-cert-sha256'
export const CA_ANNOTATION = 'sim.istio.io/ca-cert-sha256'
export const SELF_SIGNED = 'self-signed'
const CACERTS = 'cacerts'
/** pilot-discovery's container in the istiod Deployment (manifests/charts/istio-control/istio-discovery). */
const CONTAINER = 'discovery'

const sha256 = (/** @type {string} */ s) => createHash('sha256').update(s).digest('hex')
/** @param {string | undefined} v */
const decode = (v) => (v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8'))

/**
 * The signing files istiod reads from a cacerts Secret (decoded), in the form it detects.
 * @param {KubeObject} secret
 * @returns {SigningFiles}
 */
function signingFiles(secret) {
  const d = secret?.data || {}
  if (d['tls.crt'] !== undefined)
    return {
      cert: decode(d['tls.crt']),
      key: decode(d['tls.key']),
      root: decode(d['ca.crt']),
      chain: decode(d['tls.crt'] || '') + (decode(d['ca.crt']) || '')
    }
  return {
    cert: decode(d['ca-cert.pem']),
    key: decode(d['ca-key.pem']),
    root: decode(d['root-cert.pem']),
    chain: decode(d['cert-chain.pem'])
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----/g

/**
 * @param {string | undefined} pem
 * @returns {X509Certificate[]}
 */
function parseCerts(pem) {
  const out = []
  for (const block of (pem || '').match(CERT_BLOCK) || []) {
    try {
      out.push(new X509Certificate(block))
    } catch {
      // Go's AppendCertsFromPEM skips what it cannot parse
    }
  }
  return out
}

/** RFC 3339 as Go's time.Format(time.RFC3339) prints a UTC time: no fraction. */
const rfc3339 = (/** @type {Date} */ d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * crypto/x509 isValid: the validity window, worded as Go's CertificateInvalidError{Reason: Expired}.
 * @param {X509Certificate} cert @param {Date} now
 */
function validityError(cert, now) {
  const from = new Date(cert.validFrom)
  const until = new Date(cert.validTo)
  if (now < from)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is before ${rfc3339(from)}`
  if (now > until)
    return `x509: certificate has expired or is not yet valid: current time ${rfc3339(now)} is after ${rfc3339(until)}`
  return undefined
}

/** @param {X509Certificate} child @param {X509Certificate} parent */
const issuedBy = (child, parent) => {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey)
  } catch {
    return false
  }
}

/**
 * crypto/x509 Certificate.Verify: leaf first, then a chain through the intermediates to one of the roots.
 * @param {X509Certificate} leaf @param {X509Certificate[]} intermediates @param {X509Certificate[]} roots @param {Date} now
 */
function verifyChain(leaf, intermediates, roots, now) {
  const leafError = validityError(leaf, now)
  if (leafError) return leafError
  if (roots.some((r) => r.fingerprint256 === leaf.fingerprint256)) return undefined
  /** @type {string | undefined} */
  let error
  /** @param {X509Certificate} cert @param {X509Certificate[]} chain @returns {boolean} */
  const build = (cert, chain) => {
    for (const [candidates, isRoot] of /** @type {Array<[X509Certificate[], boolean]>} */ ([
      [roots, true],
      [intermediates, false]
    ])) {
      for (const candidate of candidates) {
        if (chain.some((c) => c.fingerprint256 === candidate.fingerprint256) || !issuedBy(cert, candidate)) continue
        const invalid = validityError(candidate, now)
        if (invalid) {
          error = invalid
          continue
        }
        if (isRoot || build(candidate, [...chain, candidate])) return true
      }
    }
    return false
  }
  if (build(leaf, [leaf])) return undefined
  return error ?? 'x509: certificate signed by unknown authority'
}

/**
 * keycertbundle.go Verify; the error text as it reaches the caller, or undefined when the bundle is good.
 * @param {SigningFiles} files @param {Date} now
 */
function verifyBundle(files, now) {
  const [leaf] = parseCerts(files.cert)
  if (!leaf) return 'failed to parse cert PEM: invalid PEM encoded certificate'
  const chainError = verifyChain(leaf, parseCerts(files.chain), parseCerts(files.root), now)
  if (chainError) return `cannot verify the cert with the provided root chain and cert pool with error: ${chainError}`
  let key
  try {
    key = createPrivateKey(/** @type {string} */ (files.key))
  } catch {
    return 'failed to parse private key PEM: invalid PEM-encoded key'
  }
  const spki = (/** @type {import('node:crypto').KeyObject} */ k) => k.export({ type: 'spki', format: 'der' })
  if (!spki(createPublicKey(key)).equals(spki(leaf.publicKey)))
    return 'the cert does not match the key: tls: private key does not match public key'
  return undefined
}

/**
 * What an istiod starting now gets from this cacerts Secret (or its absence).
 * @param {KubeObject} secret
 * @returns {{ root: string, ca?: string } | { error: string }}
 */
export function startIstiodCa(secret, now = new Date()) {
  const files = signingFiles(secret)
  const present = [files.cert, files.key, files.root, files.chain].filter((f) => f !== undefined)
  if (present.length === 0) return { root: SELF_SIGNED }
  const fail = (/** @type {string} */ why) => ({
    error: `failed to create discovery service: failed to create CA: failed to create an istiod CA: ${why}`
  })
  if (present.length < 4) return fail('incomplete signing CA bundle detected')
  const invalid = verifyBundle(files, now)
  if (invalid) return fail(`failed to create CA KeyCertBundle (${invalid})`)
  if (!parseCerts(files.cert)[0].ca) return fail('certificate is not authorized to sign other certificates')
  // All four are present here (present.length is 4).
  return { root: sha256(/** @type {string} */ (files.root)), ca: sha256(/** @type {string} */ (files.cert)) }
}

/**
 * A running istiod that started plugged-in, told that cacerts changed (handleEvent): the signing CA it uses now.
 * @param {string} loadedRoot @param {KubeObject} secret
 * @returns {{ ca: string } | { refused: string }}
 */
export function reloadIstiodCa(loadedRoot, secret, now = new Date()) {
  const files = signingFiles(secret)
  if (files.root === undefined) return { refused: 'failed reading root-cert.pem' }
  if (sha256(files.root) !== loadedRoot)
    return { refused: 'Multi root is disabled, updating new ROOT-CA not supported' }
  const invalid = files.cert === undefined || files.key === undefined ? 'incomplete bundle' : verifyBundle(files, now)
  if (invalid) return { refused: `Failed to update new Plug-in CA certs: ${invalid}` }
  return { ca: sha256(/** @type {string} */ (files.cert)) } // present: checked above
}

const isModelledIstiod = (/** @type {KubeObject} */ d) =>
  d?.metadata?.labels?.app === 'istiod' && d.metadata.labels['operator.istio.io/component'] === 'Pilot'

/**
 * The controller: a new istiod pod loads cacerts (or crash-loops on a bad one); a cacerts change reaches the istiods
 * that watch it. Reacts synchronously to store events, like the other controllers.
 * @param {{ store: import('./store.js').Store }} ctx
 * @returns {(e: import('./index.js').ChangeEvent) => void}
 */
export function istiodCa({ store }) {
  /** @param {KubeObject} pod @returns {KubeObject} */
  const ownerOf = (pod) => {
    const ref = (pod.metadata.ownerReferences || []).find((/** @type {any} */ o) => o.kind === 'Deployment')
    const d = ref && store.get('apps/v1', 'Deployment', pod.metadata.namespace, ref.name)
    return d && d.metadata.uid === ref.uid && isModelledIstiod(d) ? d : undefined
  }
  /** @param {KubeObject} d @param {Record<string, string | undefined>} values */
  const annotate = (d, values) => {
    const annotations = { ...d.metadata.annotations }
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete annotations[k]
      else annotations[k] = v
    }
    store.put({ ...d, metadata: { ...d.metadata, annotations } })
  }

  /** @param {KubeObject} pod */
  const podStarted = (pod) => {
    const d = ownerOf(pod)
    if (!d) return
    const loaded = startIstiodCa(store.get('v1', 'Secret', pod.metadata.namespace, CACERTS))
    if ('error' in loaded) {
      store.put(crashLooping(pod, loaded.error))
      return unavailable(d)
    }
    annotate(d, { [ROOT_ANNOTATION]: loaded.root, [CA_ANNOTATION]: loaded.ca })
  }

  // The deployment controller counted the new pod before its container crashed (store events are delivered in
  // order, after the change that caused them): recount, so `rollout status` and istioctl see it unavailable.
  /** @param {KubeObject} d */
  const unavailable = (d) => {
    /** @param {KubeObject} p */
    const isReady = (p) =>
      p.status?.conditions?.some((/** @type {any} */ c) => c.type === 'Ready' && c.status === 'True')
    const owned = store
      .list('v1', 'Pod', d.metadata.namespace)
      .filter((p) => (p.metadata.ownerReferences || []).some((/** @type {any} */ o) => o.uid === d.metadata.uid))
    const n = owned.filter(isReady).length
    const replicas = d.spec?.replicas ?? 1
    const latest = store.get('apps/v1', 'Deployment', d.metadata.namespace, d.metadata.name)
    const conditions = (latest.status?.conditions || []).map((/** @type {any} */ c) =>
      c.type === 'Available' && n < replicas
        ? {
            ...c,
            status: 'False',
            reason: 'MinimumReplicasUnavailable',
            message: 'Deployment does not have minimum availability.'
          }
        : c.type === 'Progressing' && n < replicas
          ? {
              ...c,
              reason: 'ReplicaSetUpdated',
              message: String(c.message).replace('has successfully progressed', 'is progressing')
            }
          : c
    )
    const { unavailableReplicas: _drop, ...rest } = latest.status || {}
    store.put({
      ...latest,
      status: {
        ...rest,
        readyReplicas: n,
        availableReplicas: n,
        ...(replicas > n ? { unavailableReplicas: replicas - n } : {}),
        conditions
      }
    })
  }

  /** @param {string} ns */
  const cacertsChanged = (ns) => {
    const secret = store.get('v1', 'Secret', ns, CACERTS)
    if (!secret) return // fsnotify reports Write/Create only; a removed Secret leaves the mounted files as they were
    for (const d of store.list('apps/v1', 'Deployment', ns).filter(isModelledIstiod)) {
      const root = d.metadata.annotations?.[ROOT_ANNOTATION]
      if (!root || root === SELF_SIGNED) continue // no watch: it started self-signed
      const reloaded = reloadIstiodCa(root, secret)
      if ('ca' in reloaded && reloaded.ca !== d.metadata.annotations?.[CA_ANNOTATION])
        annotate(d, { [CA_ANNOTATION]: reloaded.ca })
    }
  }

  return (e) => {
    const o = e.object
    if (o.kind === 'Pod' && o.apiVersion === 'v1' && e.type === 'ADDED' && o.metadata.labels?.app === 'istiod')
      podStarted(o)
    else if (o.kind === 'Secret' && o.apiVersion === 'v1' && o.metadata.name === CACERTS && e.type !== 'DELETED')
      cacertsChanged(o.metadata.namespace)
  }
}

/**
 * The pod of a container that exits at start: kubelet shows it Running (restartPolicy Always: it is being restarted),
 * not Ready, the container waiting in CrashLoopBackOff after an exit with code 255. The message of the last
 * termination carries istiod's error: a real kubelet leaves it empty (terminationMessagePolicy File, nothing written)
 * and the text is in `kubectl logs`, which the simulator does not serve.
 * @param {KubeObject} pod @param {string} error
 */
function crashLooping(pod, error) {
  const ts = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  /** @param {string} type @param {boolean} ok */
  const cond = (type, ok) => ({ type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: ts })
  return {
    ...pod,
    status: {
      ...pod.status,
      phase: 'Running',
      conditions: [
        cond('PodReadyToStartContainers', true),
        cond('Initialized', true),
        cond('Ready', false),
        cond('ContainersReady', false),
        cond('PodScheduled', true)
      ],
      containerStatuses: (pod.spec?.containers || []).map((/** @type {any} */ c) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: false,
        started: false,
        restartCount: c.name === CONTAINER ? 1 : 0,
        state:
          c.name === CONTAINER
            ? {
                waiting: {
                  reason: 'CrashLoopBackOff',
                  message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`
                }
              }
            : { running: { startedAt: ts } },
        ...(c.name === CONTAINER
          ? {
              lastState: {
                terminated: {
                  exitCode: 255,
                  reason: 'Error',
                  message: `Error: ${error}`,
                  startedAt: ts,
                  finishedAt: ts
                }
              }
            }
          : {})
      }))
    }
  }
}
