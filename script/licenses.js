#!/usr/bin/env node
// Writes <out-dir>/licenses.txt from ncc's webpack stats: every package bundled into any chunk. ncc's own --license
// lists only one chunk's packages once the bundle is split (the artifact client is loaded on demand, in a chunk of
// its own), so the licenses of everything GitHub runs would not be in dist/.
// Usage: node script/licenses.js <stats.json> <out-dir>
import * as fs from 'node:fs'
import * as path from 'node:path'

const [statsFile, outDir] = process.argv.slice(2)
const stats = JSON.parse(fs.readFileSync(statsFile, 'utf8'))
const names = new Set()
const visit = (m) => {
  if (m.name) names.add(m.name)
  for (const inner of m.modules ?? []) visit(inner)
}
for (const m of stats.modules ?? []) visit(m)
for (const c of stats.chunks ?? []) for (const m of c.modules ?? []) visit(m)

// The package a bundled module belongs to: the innermost node_modules/<name> or node_modules/@scope/<name>.
const packageDirs = new Set()
for (const n of names) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(n.replace(/^\.\//, '').replace(/ \+ \d+ modules$/, ''))
  if (m) packageDirs.add(m[1])
}
const entries = new Map()
for (const dir of packageDirs) {
  const pkgFile = path.join(dir, 'package.json')
  if (!fs.existsSync(pkgFile)) continue
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'))
  const licenseFile = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
  const text = licenseFile ? fs.readFileSync(path.join(dir, licenseFile), 'utf8').trim() : ''
  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? '(not stated)')
  entries.set(pkg.name, `${pkg.name}\n${license}\n${text}`)
}
const out = [...entries.keys()].sort().map((k) => entries.get(k))
fs.writeFileSync(path.join(outDir, 'licenses.txt'), `${out.join('\n\n')}\n`)
