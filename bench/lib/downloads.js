// What the action downloads: a counting proxy in front of the simulated release site and GitHub API.
import * as fs from 'node:fs'
import http from 'node:http'
import * as path from 'node:path'
import { makeRunner, runAction } from '../../test/harness/action.js'
import { VERSION, clusterProfile, simulate } from './clusters.js'
import { withDist } from './runs.js'
import { readShimLog } from './shims.js'

/**
 * Forwards to `origin` and counts every body byte sent back (API answers, redirects, checksums, archives).
 * @param {string} origin
 */
async function countingProxy(origin) {
  const state = { bytes: 0, requests: 0 }
  let proxyOrigin = ''
  const server = http.createServer((req, res) => {
    state.requests++
    const up = http.request(
      new URL(req.url ?? '/', origin),
      { method: req.method, headers: { ...req.headers, host: new URL(origin).host } },
      (upRes) => {
        const headers = { ...upRes.headers }
        if (headers.location) headers.location = headers.location.replace(origin, proxyOrigin)
        res.writeHead(upRes.statusCode ?? 502, headers)
        upRes.on('data', (/** @type {Buffer} */ d) => (state.bytes += d.length))
        upRes.pipe(res)
      }
    )
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)))
  proxyOrigin = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}`
  return {
    origin: proxyOrigin,
    state,
    close: () =>
      new Promise((r) => {
        server.close(() => r(undefined))
        server.closeAllConnections()
      })
  }
}

/**
 * A fresh runner (empty tool cache) runs the action twice with `latest`, then once more with the exact version.
 * @param {{ tools: import('./shims.js').Tools, work: string, dist: string }} o
 */
export async function measureDownloads({ tools, work, dist }) {
  const profiles = [0, 1].map((i) => ({ ...clusterProfile(i, 2, 0), latencyMs: 0 }))
  const { sim } = await simulate(profiles)
  const relOrigin = new URL(sim.releases.apiUrl).origin
  const proxy = await countingProxy(relOrigin)
  const runner = makeRunner()
  const out = []
  try {
    for (const [label, version] of [
      ['first run, empty tool cache, istio-version: latest', 'latest'],
      ['second run, warm tool cache, istio-version: latest', 'latest'],
      ['third run, warm tool cache, istio-version: 1.30.3', VERSION]
    ]) {
      const log = path.join(work, `dl-${out.length}.log`)
      const before = { ...proxy.state }
      let t0 = 0
      const run = await withDist(dist, () =>
        runAction({
          inputs: {
            clusters: sim.clustersInput(),
            kubeconfig: sim.kubeconfig(),
            'istio-version': version,
            'download-base-url': sim.releases.downloadBaseUrl.replace(relOrigin, proxy.origin),
            'github-token': sim.inputs['github-token'],
            ca: 'none',
            verify: 'none'
          },
          env: {
            GITHUB_API_URL: sim.releases.apiUrl.replace(relOrigin, proxy.origin),
            PATH: `${tools.binDir}:${process.env.PATH}`,
            BENCH_LOG: log
          },
          runner,
          onSpawn: () => (t0 = Date.now())
        })
      )
      if (run.exitCode !== 0) throw new Error(`download run failed:\n${run.stdout.slice(-2000)}`)
      const shims = readShimLog(log)
      out.push({
        run: label,
        bytes: proxy.state.bytes - before.bytes,
        requests: proxy.state.requests - before.requests,
        firstCommandMs: shims.length ? Math.min(...shims.map((s) => s.at)) - t0 : undefined,
        fromCache: /from the tool cache/.test(run.stdout)
      })
      fs.rmSync(log, { force: true })
    }
  } finally {
    await proxy.close()
    await sim.stop()
    runner.cleanup()
  }
  return out
}
