/** Istio's release names for this runner's OS and CPU (istio/istio release-builder), and the archive format. */
export interface Platform {
  name: string
  archiveExt: 'tar.gz' | 'zip'
  binary: string
}

export function istioPlatform(os: NodeJS.Platform = process.platform, arch: string = process.arch): Platform {
  const cpu: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'armv7' }
  if (os === 'linux' && cpu[arch]) return { name: `linux-${cpu[arch]}`, archiveExt: 'tar.gz', binary: 'istioctl' }
  if (os === 'darwin' && (arch === 'x64' || arch === 'arm64'))
    return { name: `osx-${cpu[arch]}`, archiveExt: 'tar.gz', binary: 'istioctl' }
  if (os === 'win32' && arch === 'x64') return { name: 'win-amd64', archiveExt: 'zip', binary: 'istioctl.exe' }
  throw new Error(
    `Istio publishes no istioctl for ${os}/${arch} (it has linux amd64/arm64/armv7, osx amd64/arm64, win amd64)`
  )
}

export function archiveName(version: string, platform: Platform): string {
  return `istioctl-${version}-${platform.name}.${platform.archiveExt}`
}

/** `<base>/<V>/istioctl-<V>-<platform>.<ext>`: GitHub's release layout, which mirrors copy as is. */
export function archiveUrl(baseUrl: string, version: string, platform: Platform): string {
  return `${baseUrl.replace(/\/+$/, '')}/${version}/${archiveName(version, platform)}`
}
