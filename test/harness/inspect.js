// What a run left behind, read the way a person (or a later step) could: its error annotations, the values it masked,
// every place a credential could leak to, and the credentials a simulation handed out or stored.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { filesBelow, visibleLog } from './action.js'

/**
 * The runner's workflow-command escaping (`%` `\r` `\n`), undone.
 * @param {string} text
 */
export function unescapeCommand(text) {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/**
 * Every `::error …::message` line of a log: its title (when given) and its message, unescaped.
 * @param {string} stdout
 * @returns {Array<{ title: string | undefined, message: string }>}
 */
export function errorAnnotations(stdout) {
  return stdout
    .split('\n')
    .map((l) => /^::error(?: ([^:]*))?::(.*)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ title: /(?:^|,)title=([^,]*)/.exec(m[1] ?? '')?.[1], message: unescapeCommand(m[2]) }))
}

/**
 * The values a run masked with `::add-mask::`: none of them may show up anywhere else.
 * @param {string} stdout
 * @returns {string[]}
 */
export function maskedValues(stdout) {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('::add-mask::'))
    .map((l) => unescapeCommand(l.slice('::add-mask::'.length)))
}

/**
 * Every credential stored in the simulated clusters after a run: service-account tokens, the tokens inside remote
 * secrets' kubeconfigs, and each line of every private key (cacerts' intermediate key, the stored mesh root key).
 * @param {{ clusters: Array<{ store: { all(): any[] } }> }} sim
 */
export function storedCredentials(sim) {
  const found = new Set()
  for (const c of sim.clusters) {
    for (const obj of c.store.all()) {
      if (obj.kind !== 'Secret') continue
      const decoded = Object.entries(obj.data ?? {}).map(([k, v]) => [
        k,
        Buffer.from(String(v), 'base64').toString('utf8')
      ])
      for (const [k, text] of [...decoded, ...Object.entries(obj.stringData ?? {}).map(([k, v]) => [k, String(v)])]) {
        if (k === 'token') found.add(text)
        for (const m of text.matchAll(/^\s*token:\s*"?([^"\s]+)"?\s*$/gm)) found.add(m[1])
        for (const line of pemSecretLines(text)) found.add(line)
      }
    }
  }
  return [...found].filter((s) => s.length >= 16)
}

/**
 * The body lines of every private key in a PEM text (a key leaks if any of its lines does).
 * @param {unknown} pem
 * @returns {string[]}
 */
export function pemSecretLines(pem) {
  const out = []
  for (const m of String(pem).matchAll(/-----BEGIN [A-Z ]*PRIVATE KEY-----([\s\S]*?)-----END [A-Z ]*PRIVATE KEY-----/g))
    out.push(
      ...m[1]
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length >= 16)
    )
  return out
}

/**
 * The places a run left text in: logs (without the `::add-mask::` commands the runner swallows), GITHUB_OUTPUT,
 * GITHUB_STATE, GITHUB_ENV, GITHUB_PATH, the summary, post's logs, every file under RUNNER_TEMP now, every file of
 * the diagnostics bundle, and the argument list of every process the shim saw.
 * @param {any} run runAction()'s result, or runEntry()'s (then `post` may be given separately)
 * @param {{ runnerTemp: string }} runner
 * @param {{ records(): Array<{ tool: string, pid: number, argv: string[] }> }} [shim]
 */
export function leakPlaces(run, runner, shim, post = run.post) {
  /** @type {Record<string, string>} */
  const places = {
    stdout: visibleLog(run.stdout),
    stderr: run.stderr,
    GITHUB_OUTPUT: run.rawFiles.output,
    GITHUB_STATE: run.rawFiles.state,
    GITHUB_ENV: run.rawFiles.env,
    GITHUB_PATH: run.path,
    summary: run.summary
  }
  if (post) {
    places['post stdout'] = visibleLog(post.stdout)
    places['post stderr'] = post.stderr
  }
  for (const f of filesBelow(runner.runnerTemp)) places[`RUNNER_TEMP file ${f}`] = fs.readFileSync(f, 'latin1')
  // The diagnostics bundle (output diagnostics-path), wherever it was written: it is uploaded as an artifact.
  const bundle = run.outputs?.['diagnostics-path']
  if (bundle) for (const f of filesBelow(bundle)) places[`diagnostics file ${f}`] = fs.readFileSync(f, 'latin1')
  for (const r of shim?.records() ?? []) places[`argv of ${r.tool} (pid ${r.pid})`] = r.argv.join(' ')
  return places
}

/**
 * "<place> holds <needle…>" for every needle found anywhere; [] when nothing leaked. Needles under 8 characters are ignored.
 * @param {Record<string, string>} places
 * @param {Array<string | undefined>} needles
 */
export function findLeaks(places, needles) {
  const wanted = [...new Set(/** @type {string[]} */ (needles.filter((n) => typeof n === 'string' && n.length >= 8)))]
  return Object.entries(places).flatMap(([where, text]) =>
    wanted.filter((n) => text.includes(n)).map((n) => `${where} holds ${n.slice(0, 14)}…`)
  )
}

/**
 * Polls a folder while a run goes on and notes the mode of every file that holds one of `needles` (a credential), and
 * of the folder holding it. `stop()` returns what was seen.
 * @param {string} dir
 * @param {string[]} needles
 */
export function watchCredentialFiles(dir, needles, everyMs = 40) {
  /** @type {Map<string, Set<string>>} */
  const seen = new Map()
  /** @param {string} p @param {number} mode */
  const note = (p, mode) => {
    const modes = seen.get(p) ?? new Set()
    seen.set(p, modes)
    modes.add((mode & 0o777).toString(8).padStart(4, '0'))
  }
  const scan = () => {
    /** @param {string} d */
    const walk = (d) => {
      let entries
      try {
        entries = fs.readdirSync(d, { withFileTypes: true })
      } catch {
        return
      }
      for (const e of entries) {
        const p = path.join(d, e.name)
        try {
          if (e.isDirectory()) walk(p)
          else if (e.isFile()) {
            const mode = fs.statSync(p).mode
            const text = fs.readFileSync(p, 'latin1')
            if (needles.some((n) => n && text.includes(n))) {
              note(p, mode)
              note(`${d}/`, fs.statSync(d).mode)
            }
          }
        } catch {
          // removed while we looked
        }
      }
    }
    walk(dir)
  }
  const timer = setInterval(scan, everyMs)
  scan()
  return {
    /** path → the modes it had ("0600"); folders end with "/". */
    stop() {
      clearInterval(timer)
      scan()
      return new Map([...seen].map(([p, modes]) => [p, [...modes]]))
    }
  }
}
