import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import * as core from '@actions/core'
import * as tc from '@actions/tool-cache'
import {
  DOWNLOAD_ATTEMPTS,
  DOWNLOAD_FIX,
  StallError,
  StatusError,
  downloadToFile,
  httpClient,
  redactUrl,
  stallTimeoutMs,
  withDownloadRetries
} from './http.js'
import { Platform, archiveName, archiveUrl, istioPlatform } from './platform.js'
import { listReleases } from './releases.js'
import { nearestVersions } from './version.js'

export interface InstalledIstioctl {
  version: string
  path: string
  /** True when the tool cache already had it: nothing was downloaded. */
  cached: boolean
}

export class DownloadError extends Error {}

/** find in the tool cache → download → verify .sha256 → extract → cache. The caller only sees the binary's path. */
export async function installIstioctl(
  version: string,
  baseUrl: string,
  opts: { apiUrl: string; token: string; platform?: Platform }
): Promise<InstalledIstioctl> {
  const platform = opts.platform ?? istioPlatform()
  const hit = tc.find('istioctl', version, process.arch)
  if (hit) return { version, path: path.join(hit, platform.binary), cached: true }

  const url = archiveUrl(baseUrl, version, platform)
  const archive = await download(url, `istioctl ${version} for ${platform.name}`, async () => {
    // Only releases that can be installed: the missing one itself may be a tag whose assets are not uploaded yet.
    const published = await listReleases(opts.apiUrl, opts.token, undefined, platform).catch(() => [] as string[])
    const near = nearestVersions(
      version,
      published.filter((v) => v !== version)
    )
    return near.length ? ` The nearest published releases are ${near.join(', ')}.` : ''
  })
  try {
    await verifyChecksum(archive, url, archiveName(version, platform))
    const dir = platform.archiveExt === 'zip' ? await tc.extractZip(archive) : await tc.extractTar(archive)
    const binary = path.join(dir, platform.binary)
    if (!fs.existsSync(binary)) throw new DownloadError(`${url} holds no ${platform.binary}`)
    fs.chmodSync(binary, 0o755)
    const cachedDir = await tc.cacheDir(dir, 'istioctl', version, process.arch)
    return { version, path: path.join(cachedDir, platform.binary), cached: false }
  } finally {
    fs.rmSync(archive, { force: true })
  }
}

async function download(url: string, what: string, hintOn404: () => Promise<string>): Promise<string> {
  if (url.startsWith('file:')) {
    const source = fileURLToPath(url)
    if (!fs.existsSync(source))
      throw new DownloadError(`${what} is not in the mirror: ${source} does not exist.${await hintOn404()}`)
    const dest = path.join(tempDir(), `${Date.now()}-${path.basename(source)}`)
    fs.copyFileSync(source, dest)
    return dest
  }
  const bound = { ms: stallTimeoutMs(), fix: DOWNLOAD_FIX }
  const http = httpClient(bound)
  const dest = path.join(tempDir(), randomUUID())
  try {
    await withDownloadRetries(bound, () => downloadToFile(http, url, dest, bound), core.info)
    return dest
  } catch (e) {
    if (e instanceof StatusError && e.status === 404)
      throw new DownloadError(
        `${what} was not found (HTTP 404 for ${redactUrl(url)}); a release tag can exist before its assets are published.${await hintOn404()}`
      )
    if (e instanceof StallError)
      throw new DownloadError(`downloading ${what} failed after ${DOWNLOAD_ATTEMPTS} attempts: ${e.message}`)
    throw new DownloadError(`downloading ${redactUrl(url)} failed: ${e instanceof Error ? e.message : String(e)}`)
  } finally {
    http.dispose()
  }
}

/** Istio publishes `<archive>.sha256` as `<64 hex> <file name>`; a mismatch (or a truncated download) deletes the file. */
async function verifyChecksum(archive: string, url: string, name: string): Promise<void> {
  const sumFile = await download(`${url}.sha256`, `the checksum ${name}.sha256`, async () => '')
  const text = fs.readFileSync(sumFile, 'utf8')
  fs.rmSync(sumFile, { force: true })
  const expected = /^([0-9a-fA-F]{64})\b/.exec(text.trim())?.[1]?.toLowerCase()
  if (!expected) throw new DownloadError(`${url}.sha256 does not hold a SHA-256 checksum`)
  const actual = createHash('sha256').update(fs.readFileSync(archive)).digest('hex')
  if (actual !== expected) {
    fs.rmSync(archive, { force: true })
    throw new DownloadError(
      `checksum mismatch for ${name}: ${url}.sha256 says ${expected}, the download is ${actual}; the file was deleted (a truncated download or a tampered mirror)`
    )
  }
  core.debug(`sha256 ${actual} verified for ${name}`)
}

function tempDir(): string {
  const dir = process.env.RUNNER_TEMP || fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'istioctl-'))
  fs.mkdirSync(dir, { recursive: true })
  return dir
}
