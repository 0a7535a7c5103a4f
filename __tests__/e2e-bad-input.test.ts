// End to end: bad input makes the bundled action fail early and clearly — one error naming the input, the item and what
// is wrong, before any download or cluster request — and kubeconfigs real users bring pass through unchanged in meaning.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as http from 'node:http'
import * as os from 'node:os'
import * as path from 'node:path'
import { execFileSync } from 'node:child_process'
import * as yaml from 'js-yaml'
import { BAD_INPUTS, BadInputCase, SECRET_IN_BAD_INPUT } from '../__fixtures__/bad-inputs.js'
import { CANARY as FIXTURE_CANARY, tokenKubeconfig } from '../__fixtures__/kubeconfigs.js'
import { BASIC_CA_EXTENSIONS, opensslRootCaSync } from '../__fixtures__/openssl-ca.js'
import { CANARY, startSimulation } from '../test/sim/index.js'
import { filesBelow, makeRunner, runEntry } from '../test/harness/action.js'
import { makeShim } from '../test/harness/shim.js'
import {
  errorAnnotations,
  findLeaks,
  leakPlaces,
  maskedValues,
  pemSecretLines,
  storedCredentials,
  watchCredentialFiles
} from '../test/harness/inspect.js'

type Sim = Awaited<ReturnType<typeof startSimulation>>
type Entry = Awaited<ReturnType<typeof runEntry>>

/** A self-signed CA (cert + key) made with openssl, as a user would make one. */
const opensslRoot = (dir: string, name: string) =>
  opensslRootCaSync({ dir, name, days: 1, subject: `/O=Istio/CN=${name}`, extensions: BASIC_CA_EXTENSIONS })

interface CaseRun {
  c: BadInputCase
  main: Entry
  post: Entry
  processes: number
  toolCacheFiles: string[]
  runnerTempFiles: string[]
  leaks: string[]
}

describe('e2e: bad input is rejected before any download or cluster request', () => {
  let sim: Sim
  let tmp: string
  const cases: BadInputCase[] = []
  const runs = new Map<string, CaseRun>()
  let requestsAfter = -1
  let releaseRequestsAfter = -1
  const needles: string[] = [CANARY, FIXTURE_CANARY, ...pemSecretLines(SECRET_IN_BAD_INPUT.otherKey)]

  beforeAll(async () => {
    sim = await startSimulation()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-input-'))
    // Cases that need real key material (the unit table has the rest): a root whose key is another pair's.
    const a = opensslRoot(tmp, 'root-a')
    const b = opensslRoot(tmp, 'root-b')
    needles.push(...pemSecretLines(a.key), ...pemSecretLines(b.key))
    const KC = tokenKubeconfig('c1') + '---\n' + tokenKubeconfig('c2')
    const bigFile = path.join(tmp, 'big-kubeconfig')
    fs.writeFileSync(bigFile, tokenKubeconfig('c2') + `# ${'x'.repeat(1100 * 1024)}\n`)
    const TWO = '- {name: c1, network: n1}\n- {name: c2, network: n2}'
    cases.push(
      ...BAD_INPUTS,
      {
        name: 'ca-root-key does not match ca-root-cert',
        inputs: { clusters: TWO, kubeconfig: KC, ca: 'provided', 'ca-root-cert': a.cert, 'ca-root-key': b.key },
        error: /^Input "ca-root-key": does not match the public key of ca-root-cert/
      },
      {
        name: 'ca-root-key is not a key',
        inputs: {
          clusters: TWO,
          kubeconfig: KC,
          ca: 'provided',
          'ca-root-cert': a.cert,
          'ca-root-key': `${FIXTURE_CANARY}-not-a-key`
        },
        error: /^Input "ca-root-key": is not a PEM private key/
      },
      {
        name: 'ca-root-cert is not a CA',
        inputs: {
          clusters: TWO,
          kubeconfig: KC,
          ca: 'provided',
          'ca-root-cert': leafCert(tmp, a),
          'ca-root-key': a.key
        },
        error: /^Input "ca-root-cert": is not a CA certificate/
      },
      {
        name: 'kubeconfig input is base64 of junk',
        inputs: { clusters: TWO, kubeconfig: Buffer.from(`${FIXTURE_CANARY} is no kubeconfig`).toString('base64') },
        error: /^Input "kubeconfig": the value is base64 but does not decode to a kubeconfig/
      },
      {
        name: 'unknown mode',
        inputs: { clusters: TWO, kubeconfig: KC, mode: 'instal' },
        error: /^Input "mode": must be one of .*got "instal"; did you mean "install"\?/
      },
      {
        name: 'oversized kubeconfig-file',
        inputs: {
          clusters: `- {name: c1, network: n1}\n- {name: c2, network: n2, kubeconfig-file: ${bigFile}}`,
          kubeconfig: KC
        },
        error:
          /^Input "clusters", item 2, field "kubeconfig-file": the kubeconfig is \d+ bytes; a kubeconfig over 1 MiB is not plausible/
      }
    )

    // Each case runs main then post, as the runner does, with everything a download or a cluster call would need:
    // the simulation's download site and API, and a recording shim in front of kubectl.
    const runCase = async (c: BadInputCase): Promise<CaseRun> => {
      const runner = makeRunner()
      const shim = makeShim()
      try {
        const inputs = { ...sim.inputs, 'istio-version': 'latest', ...c.inputs }
        const env = { ...sim.env, PATH: shim.path, ...c.env }
        const main = await runEntry({ inputs, env, runner, timeoutMs: 30_000 })
        const post = await runEntry({ inputs, env, runner, entry: 'post', state: main.state, timeoutMs: 30_000 })
        const extra = [...needles, ...maskedValues(main.stdout)]
        return {
          c,
          main,
          post,
          processes: shim.records().length,
          toolCacheFiles: filesBelow(runner.toolCache),
          runnerTempFiles: filesBelow(runner.runnerTemp),
          leaks: findLeaks(leakPlaces(main, runner, shim, post), extra)
        }
      } finally {
        shim.cleanup()
        runner.cleanup()
      }
    }
    // Node 24 starts in a few tenths of a second: four cases at a time keep both cores busy.
    for (let i = 0; i < cases.length; i += 4)
      for (const r of await Promise.all(cases.slice(i, i + 4).map(runCase))) runs.set(r.c.name, r)
    requestsAfter = sim.requestCount()
    releaseRequestsAfter = sim.releases.requests.length
  }, 180_000)

  afterAll(async () => {
    await sim?.stop()
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
  })

  it('tries at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40)
    expect(runs.size).toBe(cases.length)
  })

  it('no case reached a cluster or the release site', () => {
    expect(requestsAfter).toBe(0)
    expect(releaseRequestsAfter).toBe(0)
  })

  it.each(
    BAD_INPUTS.map((c) => [c.name]).concat([
      ['ca-root-key does not match ca-root-cert'],
      ['ca-root-key is not a key'],
      ['ca-root-cert is not a CA'],
      ['kubeconfig input is base64 of junk'],
      ['unknown mode'],
      ['oversized kubeconfig-file']
    ])
  )('%s', (name) => {
    const r = runs.get(name)!
    expect(r).toBeDefined()
    const errors = errorAnnotations(r.main.stdout)
    if (errors.length !== 1 || !r.c.error.test(errors[0].message)) console.log(name, r.main.stdout, r.main.stderr)
    expect(r.main.exitCode).not.toBe(0)
    // One error, naming the input, the item and what is wrong.
    expect(errors).toHaveLength(1)
    expect(errors[0].message).toMatch(r.c.error)
    // Before anything else: no process started, nothing downloaded, nothing written under RUNNER_TEMP, no state for post.
    expect(r.processes).toBe(0)
    expect(r.toolCacheFiles).toEqual([])
    expect(r.runnerTempFiles).toEqual([])
    expect(r.main.state).toEqual({})
    expect(r.main.outputs).toEqual({})
    expect(r.post.exitCode).toBe(0)
    // The canary of every credential given (tokens, keys, the github token) is nowhere.
    expect(r.leaks).toEqual([])
  })
})

/** A certificate signed by `root` that is not a CA (a leaf), made with openssl. */
function leafCert(dir: string, root: { cert: string; key: string }): string {
  fs.writeFileSync(`${dir}/ca.pem`, root.cert)
  fs.writeFileSync(`${dir}/ca.key`, root.key)
  execFileSync(
    'openssl',
    [
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${dir}/leaf.key`,
      '-out',
      `${dir}/leaf.csr`,
      '-subj',
      '/CN=leaf'
    ],
    { stdio: 'ignore' }
  )
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      `${dir}/leaf.csr`,
      '-CA',
      `${dir}/ca.pem`,
      '-CAkey',
      `${dir}/ca.key`,
      '-CAcreateserial',
      '-out',
      `${dir}/leaf.pem`,
      '-days',
      '1'
    ],
    { stdio: 'ignore' }
  )
  return fs.readFileSync(`${dir}/leaf.pem`, 'utf8')
}

/**
 * A forwarding proxy for kubeconfig's `proxy-url`: answers CONNECT by piping to the target, and notes each target.
 */
async function startConnectProxy(): Promise<{ url: string; targets: string[]; close(): Promise<void> }> {
  const targets: string[] = []
  const sockets = new Set<net.Socket>()
  const server = http.createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req, client: net.Socket, head: Buffer) => {
    targets.push(req.url ?? '')
    const [host, port] = (req.url ?? '').split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => (s === client ? upstream : client).destroy())
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    targets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

describe('e2e: kubeconfigs real users bring pass through unchanged in meaning', () => {
  let sim: Sim
  let shim: ReturnType<typeof makeShim>
  let runner: ReturnType<typeof makeRunner>
  let proxy: Awaited<ReturnType<typeof startConnectProxy>>
  let main: Entry
  let post: Entry
  let tmp: string
  let modes: Map<string, string[]>
  let written: any
  let given: any[]
  let clientKey: string
  let root: { cert: string; key: string }
  const plugin = { calls: [] as { parent: string; profile: string; execInfo: boolean; args: string }[] }

  beforeAll(async () => {
    sim = await startSimulation()
    runner = makeRunner()
    shim = makeShim()
    proxy = await startConnectProxy()
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kc-passthrough-'))
    const [c1, c2] = sim.clusters
    const version = '1.30.3'
    await shim.seedIstioctl(runner.toolCache, version)

    // A fake `aws eks get-token`: prints the cluster's token as an ExecCredential, and notes who ran it.
    const log = path.join(tmp, 'aws-calls')
    shim.addTool(
      'aws',
      [
        '#!/bin/sh',
        `printf '%s\\t%s\\t%s\\t%s\\n' "$(tr '\\0' ' ' < /proc/$PPID/cmdline)" "$AWS_PROFILE" "\${KUBERNETES_EXEC_INFO:+yes}" "$*" >> '${log}'`,
        'case " $* " in',
        `  *" --cluster-name cluster1 "*) token='${c1.adminToken}' ;;`,
        "  *) echo 'An error occurred (ResourceNotFoundException): No cluster found' >&2; exit 254 ;;",
        'esac',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"2099-01-01T00:00:00Z"}}\\n' "$token"`,
        ''
      ].join('\n')
    )
    // A client certificate and key (the simulated API servers authenticate by token; the pair must still pass unchanged).
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${tmp}/client.key`,
        '-out',
        `${tmp}/client.crt`,
        '-days',
        '1',
        '-subj',
        '/O=system:masters/CN=admin'
      ],
      { stdio: 'ignore' }
    )
    clientKey = fs.readFileSync(`${tmp}/client.key`, 'utf8')
    // The mesh's root of trust comes from the user too (ca: provided): its key must only ever travel on stdin.
    root = opensslRoot(tmp, 'mesh-root')
    const b64 = (s: string) => Buffer.from(s).toString('base64')

    const eksContext = 'arn:aws:eks:us-east-1:111122223333:cluster/cluster1'
    given = [
      // Somebody's unrelated context, first: merged like kubectl merges, and not written by the action. (Its names
      // differ from the others': as with kubectl, the first document defining a name wins.)
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'dev', cluster: { server: 'https://dev.example:6443' } }],
        contexts: [{ name: 'dev', context: { cluster: 'dev', user: 'dev-admin' } }],
        users: [{ name: 'dev-admin', user: { token: `${CANARY}-unrelated-dev-token-000000` } }],
        'current-context': 'dev'
      },
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: eksContext,
            cluster: { server: c1.url, 'certificate-authority-data': b64(c1.caPem), 'proxy-url': proxy.url }
          }
        ],
        contexts: [{ name: eksContext, context: { cluster: eksContext, user: eksContext } }],
        users: [
          {
            name: eksContext,
            user: {
              exec: {
                apiVersion: 'client.authentication.k8s.io/v1beta1',
                command: 'aws',
                args: ['--region', 'us-east-1', 'eks', 'get-token', '--cluster-name', 'cluster1', '--output', 'json'],
                env: [{ name: 'AWS_PROFILE', value: 'ci' }],
                interactiveMode: 'Never',
                provideClusterInfo: false
              }
            }
          }
        ],
        'current-context': eksContext
      },
      {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'onprem', cluster: { server: c2.url, 'insecure-skip-tls-verify': true } }],
        contexts: [{ name: 'onprem-admin', context: { cluster: 'onprem', user: 'admin', namespace: 'default' } }],
        users: [
          {
            name: 'admin',
            user: {
              token: c2.adminToken,
              'client-certificate-data': b64(fs.readFileSync(`${tmp}/client.crt`, 'utf8')),
              'client-key-data': b64(clientKey)
            }
          }
        ]
      }
    ]
    const multiDoc = given.map((d) => yaml.dump(d, { lineWidth: -1 })).join('---\n')
    const inputs = {
      clusters: sim.clustersInput({ cluster1: { context: eksContext }, cluster2: { context: 'onprem-admin' } }),
      // Base64 of several documents, as a secret often holds it.
      kubeconfig: Buffer.from(multiDoc).toString('base64'),
      'istio-version': version,
      ca: 'provided',
      'ca-root-cert': root.cert,
      'ca-root-key': root.key,
      ...sim.inputs
    }
    const needles = [CANARY, ...pemSecretLines(clientKey), ...pemSecretLines(root.key)]
    const watch = watchCredentialFiles(runner.runnerTemp, needles)
    // The kubeconfig the action writes, read while it exists (post removes it).
    const grab = setInterval(() => {
      for (const d of fs.readdirSync(runner.runnerTemp)) {
        const f = path.join(runner.runnerTemp, d, 'kubeconfig')
        if (!d.startsWith('istio-multicluster-') || written) continue
        try {
          const doc = yaml.load(fs.readFileSync(f, 'utf8')) as any
          if (doc?.users) written = doc
        } catch {
          // caught while being written
        }
      }
    }, 30)
    main = await runEntry({ inputs, env: { ...sim.env, PATH: shim.path }, runner })
    clearInterval(grab)
    modes = watch.stop()
    post = await runEntry({ inputs, env: { ...sim.env, PATH: shim.path }, runner, entry: 'post', state: main.state })
    plugin.calls = fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => {
            const [parent, profile, execInfo, args] = l.split('\t')
            return { parent, profile, execInfo: execInfo === 'yes', args }
          })
      : []
  }, 120_000)

  afterAll(async () => {
    await sim?.stop()
    await proxy?.close()
    runner?.cleanup()
    shim?.cleanup()
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
  })

  it('builds and verifies the mesh with them', () => {
    if (main.exitCode !== 0) console.log(main.stdout, main.stderr)
    expect(main.exitCode).toBe(0)
    expect(main.outputs.verified).toBe('true')
    expect(errorAnnotations(main.stdout)).toEqual([])
    for (const c of sim.clusters) expect(c.store.get('apps/v1', 'Deployment', 'istio-system', 'istiod')).toBeTruthy()
    // The provided root is the mesh's root in every cluster.
    expect(main.outputs['root-cert'].trim()).toBe(root.cert.trim())
    for (const c of sim.clusters) {
      const cacerts = c.store.get('v1', 'Secret', 'istio-system', 'cacerts')
      expect(Buffer.from(cacerts.data['root-cert.pem'], 'base64').toString('utf8').trim()).toBe(root.cert.trim())
    }
  })

  it('authenticates kubectl and istioctl to the EKS-style cluster through the exec plugin, with its env', () => {
    expect(plugin.calls.length).toBeGreaterThan(0)
    for (const call of plugin.calls) {
      expect(call).toMatchObject({
        profile: 'ci',
        execInfo: true,
        args: '--region us-east-1 eks get-token --cluster-name cluster1 --output json'
      })
    }
    expect(plugin.calls.some((c) => /(^|\/)kubectl /.test(c.parent))).toBe(true)
    expect(plugin.calls.some((c) => /\/istioctl /.test(c.parent))).toBe(true)
    // The remote secret of cluster1 carries a token of its own service account, not the plugin.
    const secret = sim.cluster('cluster2').store.get('v1', 'Secret', 'istio-system', 'istio-remote-secret-cluster1')
    const kc = yaml.load(Buffer.from(secret.data.cluster1, 'base64').toString('utf8')) as any
    expect(sim.cluster('cluster1').tokenIsValid(kc.users[0].user.token)).toBe(true)
    expect(kc.users[0].user.exec).toBeUndefined()
  })

  it('sends kubectl through the proxy-url of the cluster that has one', () => {
    expect(proxy.targets.length).toBeGreaterThan(0)
    expect(new Set(proxy.targets)).toEqual(new Set([new URL(sim.cluster('cluster1').url).host]))
  })

  it('writes each cluster, user and context unchanged in meaning, renamed to the cluster, nothing else', () => {
    expect(written).toBeDefined()
    const [, eks, onprem] = given
    expect(written.contexts).toEqual([
      { name: 'cluster1', context: { cluster: 'cluster1', user: 'cluster1' } },
      { name: 'cluster2', context: { cluster: 'cluster2', user: 'cluster2' } }
    ])
    expect(written.clusters).toEqual([
      { name: 'cluster1', cluster: eks.clusters[0].cluster },
      { name: 'cluster2', cluster: onprem.clusters[0].cluster }
    ])
    expect(written.users).toEqual([
      { name: 'cluster1', user: eks.users[0].user },
      { name: 'cluster2', user: onprem.users[0].user }
    ])
  })

  it('keeps the kubeconfig 0600 in a 0700 folder while it exists, and removes it in post', () => {
    const kubeconfigs = [...modes.keys()].filter((p) => path.basename(p) === 'kubeconfig')
    expect(kubeconfigs).toHaveLength(1)
    for (const [p, m] of modes) expect([p, m]).toEqual([p, p.endsWith('/') ? ['0700'] : ['0600']])
    expect(post.exitCode).toBe(0)
    expect(filesBelow(runner.runnerTemp)).toEqual([])
  })

  it('leaks no token, client-key or root-key line anywhere, argument lists included', () => {
    expect(shim.records().filter((r) => r.tool === 'kubectl').length).toBeGreaterThan(0)
    expect(shim.records().filter((r) => r.tool === 'istioctl').length).toBeGreaterThan(0)
    const needles = [
      CANARY,
      ...pemSecretLines(clientKey),
      ...pemSecretLines(root.key),
      ...storedCredentials(sim),
      ...maskedValues(main.stdout)
    ]
    expect(needles.length).toBeGreaterThan(10)
    expect(findLeaks(leakPlaces(main, runner, shim, post), needles)).toEqual([])
  })
})
