// The README is the action's interface for people: its input and output tables must say what action.yml says, its
// examples must be valid and use only real inputs, and the commands and links it gives must exist.
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as yaml from 'js-yaml'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** How the README refers to this action; the owner is a placeholder the README explains once. */
const ACTION_REF = 'istio-multicluster/istio-multicluster-action@v1'

const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')

interface ActionInput {
  description?: unknown
  required?: unknown
  default?: unknown
}
interface ActionMetadata {
  inputs: Record<string, ActionInput>
  outputs: Record<string, { description?: unknown }>
}

/** action.yml, parsed as GitHub parses it; a YAML error here means GitHub cannot load the action at all. */
function loadAction(): ActionMetadata {
  const text = fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')
  try {
    return yaml.load(text) as ActionMetadata
  } catch (e) {
    throw new Error(
      `action.yml is not valid YAML, so GitHub cannot load the action: ${(e as Error).message}\n` +
        'A plain scalar may not contain ": " (e.g. `ca: provided` inside a description): quote the description or use ">-".'
    )
  }
}

/** Cells of one Markdown table row; `|` inside backticks or escaped as `\|` stays in its cell. */
function cells(row: string): string[] {
  const out: string[] = []
  let cell = ''
  let code = false
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '')
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]
    if (ch === '\\' && body[i + 1] === '|') {
      cell += '|'
      i++
    } else if (ch === '`') {
      code = !code
      cell += ch
    } else if (ch === '|' && !code) {
      out.push(cell.trim())
      cell = ''
    } else cell += ch
  }
  out.push(cell.trim())
  return out
}

/** The first table after the heading `title` (any level), as objects keyed by the header row. */
function tableAfter(markdown: string, title: string): Record<string, string>[] {
  const lines = markdown.split('\n')
  const at = lines.findIndex((l) => new RegExp(`^#{1,6}\\s+${title}\\s*$`).test(l))
  if (at < 0) throw new Error(`README has no "${title}" heading`)
  const start = lines.findIndex((l, i) => i > at && l.trim().startsWith('|'))
  if (start < 0) throw new Error(`README has no table after "${title}"`)
  const rows: string[] = []
  for (let i = start; i < lines.length && lines[i].trim().startsWith('|'); i++) rows.push(lines[i])
  const header = cells(rows[0])
  return rows.slice(2).map((r) => Object.fromEntries(cells(r).map((c, i) => [header[i], c])))
}

/** `name` from a cell like "`name`". */
function codeName(cell: string): string {
  const m = /^`([^`]+)`$/.exec(cell)
  if (!m) throw new Error(`expected a name in backticks, got "${cell}"`)
  return m[1]
}

/** The default a README cell states: `—` none, `''` the empty string, otherwise the first code span. */
function readmeDefault(cell: string): string | undefined {
  if (cell === '—') return undefined
  if (cell.startsWith("`''`") || cell.startsWith("''")) return ''
  const m = /^`([^`]*)`/.exec(cell)
  if (!m) throw new Error(`default cell "${cell}" is neither —, '' nor a value in backticks`)
  return m[1]
}

/** YAML code blocks of the README, parsed; `line` is where the block starts, for messages. */
function yamlBlocks(): { line: number; doc: unknown }[] {
  const blocks: { line: number; doc: unknown }[] = []
  for (const m of readme.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
    const line = readme.slice(0, m.index).split('\n').length
    try {
      blocks.push({ line, doc: yaml.load(m[1]) })
    } catch (e) {
      throw new Error(`README line ${line}: the YAML example does not parse: ${(e as Error).message}`)
    }
  }
  return blocks
}

interface Step {
  uses?: string
  with?: Record<string, unknown>
}

function stepsOf(doc: unknown): Step[] {
  const jobs = (doc as { jobs?: Record<string, { steps?: Step[] }> })?.jobs ?? {}
  return Object.values(jobs).flatMap((j) => j?.steps ?? [])
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

describe('README and action.yml', () => {
  it('action.yml is valid YAML', () => {
    expect(() => loadAction()).not.toThrow()
  })

  it('the Inputs table lists exactly the inputs of action.yml, with the same required flags and defaults', () => {
    const action = loadAction()
    const rows = tableAfter(readme, 'Inputs')
    const documented = new Map(rows.map((r) => [codeName(r.Input), r]))
    expect(rows.length).toBe(documented.size) // no input listed twice
    const declared = Object.keys(action.inputs)
    expect({
      missingFromReadme: declared.filter((n) => !documented.has(n)),
      notInActionYml: [...documented.keys()].filter((n) => !(n in action.inputs))
    }).toEqual({
      missingFromReadme: [],
      notInActionYml: []
    })
    for (const [name, input] of Object.entries(action.inputs)) {
      const row = documented.get(name)!
      const required = input.required === true
      expect({ name, required: row.Required }).toEqual({ name, required: required ? 'yes' : 'no' })
      const declaredDefault = input.default === undefined ? undefined : String(input.default)
      expect({ name, default: readmeDefault(row.Default) }).toEqual({ name, default: declaredDefault })
      expect({ name, hasDescription: row.Description.length > 0 }).toEqual({ name, hasDescription: true })
    }
  })

  it('the Outputs table lists exactly the outputs of action.yml (plus the per-cluster outputs it cannot declare)', () => {
    const action = loadAction()
    const rows = tableAfter(readme, 'Outputs')
    // `<name>-gateway-address`: one output per cluster; its names depend on the input, so action.yml cannot list them.
    const documented = rows.map((r) => codeName(r.Output)).filter((n) => !/<[a-z]+>/.test(n))
    expect([...documented].sort()).toEqual(Object.keys(action.outputs).sort())
    expect(new Set(documented).size).toBe(documented.length)
    for (const r of rows)
      expect({ output: r.Output, hasDescription: r.Description.length > 0 }).toEqual({
        output: r.Output,
        hasDescription: true
      })
  })

  it('every YAML example parses, uses the action by one reference, and passes it only inputs action.yml declares', () => {
    const action = loadAction()
    const required = Object.entries(action.inputs)
      .filter(([, i]) => i.required === true)
      .map(([n]) => n)
    const blocks = yamlBlocks()
    expect(blocks.length).toBeGreaterThan(5)
    let uses = 0
    for (const { line, doc } of blocks) {
      for (const step of stepsOf(doc)) {
        if (!step.uses || !/istio-multicluster-action/.test(step.uses)) continue
        uses++
        expect({ line, uses: step.uses }).toEqual({ line, uses: ACTION_REF })
        const keys = Object.keys(step.with ?? {})
        expect({ line, unknownInputs: keys.filter((k) => !(k in action.inputs)) }).toEqual({ line, unknownInputs: [] })
        expect({ line, missingRequired: required.filter((k) => !keys.includes(k)) }).toEqual({
          line,
          missingRequired: []
        })
      }
    }
    expect(uses).toBeGreaterThanOrEqual(8)
    // No other spelling of the action anywhere in the text (badges and links name the repository, not a ref).
    const refs = [...readme.matchAll(/[\w.-]+\/istio-multicluster-action@[\w.-]+/g)].map((m) => m[0])
    expect([...new Set(refs)]).toEqual([ACTION_REF])
  })

  it('shows the examples and uses the issue asks for', () => {
    for (const heading of [
      'Quick start',
      'Amazon EKS (OIDC)',
      'Google GKE (Workload Identity Federation)',
      'kind',
      'Three uses',
      'Troubleshooting',
      'Security',
      'Local development'
    ])
      expect({
        heading,
        present: new RegExp(`^#{2,4} ${heading.replace(/[()]/g, '\\$&')}$`, 'm').test(readme)
      }).toEqual({ heading, present: true })
    const text = readme.replace(/\s+/g, ' ')
    for (const phrase of [
      'aws eks update-kubeconfig',
      'google-github-actions/auth@',
      'get-gke-credentials@',
      'cloud-provider-kind',
      '```mermaid',
      'schedule:',
      'types: [opened, reopened, synchronize, closed]',
      'concurrency:',
      'mode: uninstall',
      'npm run demo',
      'npx @github/local-action'
    ])
      expect({ phrase, present: text.includes(phrase) }).toEqual({ phrase, present: true })
  })

  it('every `npm run` script the README names exists in package.json', () => {
    const scripts = (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts
    // Outside the YAML examples: those run the user's own project's scripts.
    const prose = readme.replace(/^```ya?ml\n[\s\S]*?^```/gm, '')
    const named = [...new Set([...prose.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]))]
    expect(named).toEqual(expect.arrayContaining(['demo', 'package']))
    expect({ missingScripts: named.filter((s) => !(s in scripts)) }).toEqual({ missingScripts: [] })
  })

  it('relative links point at files that exist, and #anchors at headings', () => {
    const headings = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1])))
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1])
    // The contents line alone links ten headings: a pattern that matched nothing would check nothing.
    expect(targets.filter((t) => t.startsWith('#')).length).toBeGreaterThanOrEqual(10)
    for (const target of targets) {
      if (/^[a-z]+:/.test(target)) continue
      if (target.startsWith('#'))
        expect({ anchor: target, exists: headings.has(target.slice(1)) }).toEqual({ anchor: target, exists: true })
      else
        expect({ link: target, exists: fs.existsSync(path.join(ROOT, target.split('#')[0])) }).toEqual({
          link: target,
          exists: true
        })
    }
  })
})

describe('.env.example', () => {
  it('sets only inputs action.yml declares, as INPUT_<NAME> with the name upper-cased', () => {
    const action = loadAction()
    const text = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    const keys = [...text.matchAll(/^#?\s*INPUT_([A-Za-z0-9_-]+)=/gm)].map((m) => m[1])
    expect(keys).toEqual(expect.arrayContaining(['MODE', 'CLUSTERS']))
    const known = new Set(Object.keys(action.inputs).map((n) => n.toUpperCase()))
    expect({ unknown: keys.filter((k) => !known.has(k)) }).toEqual({ unknown: [] })
    expect({ notUpperCase: keys.filter((k) => k !== k.toUpperCase()) }).toEqual({ notUpperCase: [] })
    // The clusters value is YAML on one line (dotenv values do not span lines): it must parse as a list of clusters.
    const clusters = /^INPUT_CLUSTERS="(.*)"$/m.exec(text)?.[1]
    const parsed = yaml.load(clusters ?? '') as { name: string; network: string }[]
    expect(Array.isArray(parsed) && parsed.length >= 2 && parsed.every((c) => c.name && c.network)).toBe(true)
  })
})
