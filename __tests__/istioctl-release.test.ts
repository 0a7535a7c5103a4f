import { describe, expect, it } from '@jest/globals'
import { archiveName, archiveUrl, istioPlatform } from '../src/istioctl/platform.js'
import { nearestVersions, parseVersionSpec, selectVersion } from '../src/istioctl/version.js'

describe('platform mapping', () => {
  it.each([
    ['linux', 'x64', 'linux-amd64', 'tar.gz', 'istioctl'],
    ['linux', 'arm64', 'linux-arm64', 'tar.gz', 'istioctl'],
    ['linux', 'arm', 'linux-armv7', 'tar.gz', 'istioctl'],
    ['darwin', 'x64', 'osx-amd64', 'tar.gz', 'istioctl'],
    ['darwin', 'arm64', 'osx-arm64', 'tar.gz', 'istioctl'],
    ['win32', 'x64', 'win-amd64', 'zip', 'istioctl.exe']
  ] as const)('%s/%s → %s', (os, arch, name, ext, binary) => {
    expect(istioPlatform(os, arch)).toEqual({ name, archiveExt: ext, binary })
  })

  it('refuses what Istio does not publish', () => {
    expect(() => istioPlatform('win32', 'arm64')).toThrow(/no istioctl for win32\/arm64/)
    expect(() => istioPlatform('freebsd', 'x64')).toThrow(/no istioctl for freebsd/)
  })

  it('builds GitHub release URLs (and mirrors with the same layout)', () => {
    const p = istioPlatform('linux', 'x64')
    expect(archiveUrl('https://github.com/istio/istio/releases/download', '1.30.3', p)).toBe(
      'https://github.com/istio/istio/releases/download/1.30.3/istioctl-1.30.3-linux-amd64.tar.gz'
    )
    expect(archiveUrl('https://mirror.example/istio/', '1.29.1', istioPlatform('win32', 'x64'))).toBe(
      'https://mirror.example/istio/1.29.1/istioctl-1.29.1-win-amd64.zip'
    )
    expect(archiveName('1.31.0', istioPlatform('darwin', 'arm64'))).toBe('istioctl-1.31.0-osx-arm64.tar.gz')
  })
})

describe('versions', () => {
  const published = ['1.31.1', '1.29.4', '1.30.3', '1.31.0', '1.30.10', '1.28.9', 'v1.30.2']
  it('latest is the highest plain release, not the newest published (older minors get patches later)', () => {
    expect(selectVersion({ kind: 'latest' }, published)).toBe('1.31.1')
  })
  it('X.Y is its newest patch, compared numerically', () => {
    expect(selectVersion({ kind: 'minor', major: 1, minor: 30 }, published)).toBe('1.30.10')
    expect(selectVersion({ kind: 'minor', major: 1, minor: 27 }, published)).toBeUndefined()
  })
  it('parses specs', () => {
    expect(parseVersionSpec('')).toEqual({ kind: 'latest' })
    expect(parseVersionSpec('v1.30.3')).toEqual({ kind: 'exact', version: '1.30.3' })
    expect(parseVersionSpec('1.30')).toEqual({ kind: 'minor', major: 1, minor: 30 })
    expect(parseVersionSpec('1.30.x')).toMatch(/must be "latest"/)
  })
  it('names the nearest releases of a missing one', () => {
    expect(nearestVersions('1.30.4', published)).toEqual(['1.30.3', '1.30.2', '1.30.10'])
  })
})
