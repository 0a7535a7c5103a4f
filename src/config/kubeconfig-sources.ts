import * as os from 'node:os'
import * as path from 'node:path'
import { InputError, itemField } from '../errors.js'
import { Kubeconfig, KubeconfigProblem, extractContext, parseKubeconfigs } from '../kube/kubeconfig.js'
import { ConfigSource } from './inputs.js'

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Where the kubeconfig shared by clusters without their own came from, and its documents. */
export interface SharedKubeconfig {
  source: string
  documents: Kubeconfig[]
}

/** What a cluster item says about its kubeconfig: an environment variable, a file, or neither (the shared one). */
export interface ClusterKubeconfigFields {
  envName?: string
  file?: string
  /** The `context` field, when the item has one (for messages). */
  contextField?: string
}

/** One cluster's context, renamed to its name, from its kubeconfig-env / kubeconfig-file or the shared kubeconfig. */
export function kubeconfigOf(
  src: ConfigSource,
  i: number,
  name: string,
  context: string,
  { envName, file, contextField }: ClusterKubeconfigFields,
  shared: () => SharedKubeconfig
): { source: string; kubeconfig: Kubeconfig } {
  if (envName !== undefined && file !== undefined)
    throw new InputError('clusters', itemField(i), 'has both "kubeconfig-env" and "kubeconfig-file"; give one')
  const field = envName !== undefined ? 'kubeconfig-env' : file !== undefined ? 'kubeconfig-file' : undefined
  let source: string
  try {
    let documents: Kubeconfig[]
    if (envName !== undefined) {
      if (!ENV_NAME.test(envName))
        throw new InputError(
          'clusters',
          itemField(i, 'kubeconfig-env'),
          `must be an environment variable name, got ${JSON.stringify(envName)}`
        )
      const value = src.env[envName]
      if (value === undefined)
        throw new InputError(
          'clusters',
          itemField(i, 'kubeconfig-env'),
          `environment variable ${envName} is not set (pass it with "env:" on the step)`
        )
      if (value.trim() === '')
        throw new InputError(
          'clusters',
          itemField(i, 'kubeconfig-env'),
          `environment variable ${envName} is empty (is the secret defined for this repository/environment?)`
        )
      source = `kubeconfig-env ${envName}`
      documents = parseKubeconfigs(value)
    } else if (file !== undefined) {
      const resolved = path.resolve(src.env.GITHUB_WORKSPACE ?? process.cwd(), file)
      source = `kubeconfig-file ${file}`
      documents = parseKubeconfigs(
        readFileFor(src, resolved, 'clusters', itemField(i, 'kubeconfig-file')),
        path.dirname(resolved)
      )
    } else {
      const s = shared()
      source = s.source
      documents = s.documents
    }
    return { source, kubeconfig: extractContext(documents, context, name) }
  } catch (e) {
    if (!(e instanceof KubeconfigProblem)) throw e
    const where = field ?? (contextField !== undefined ? 'context' : undefined)
    const from = field
      ? `the kubeconfig`
      : `the ${shared().source === 'kubeconfig' ? '"kubeconfig" input' : shared().source}`
    throw new InputError('clusters', itemField(i, where), `${from} ${e.message}`)
  }
}

/** The `kubeconfig` input, else $KUBECONFIG, else ~/.kube/config — read only when a cluster needs it. */
export function sharedKubeconfig(src: ConfigSource): () => SharedKubeconfig {
  let cached: SharedKubeconfig | undefined
  return () => {
    if (cached) return cached
    const text = src.input('kubeconfig')
    if (text.trim() !== '') {
      try {
        cached = { source: 'kubeconfig', documents: parseKubeconfigs(text) }
      } catch (e) {
        if (e instanceof KubeconfigProblem) throw new InputError('kubeconfig', '', `the value ${e.message}`)
        throw e
      }
      return cached
    }
    const envList = src.env.KUBECONFIG?.split(path.delimiter).filter(Boolean)
    const files = envList?.length ? envList : [path.join(src.env.HOME ?? os.homedir(), '.kube', 'config')]
    const source = envList?.length ? '$KUBECONFIG' : '~/.kube/config'
    const existing = files
      .map((f) => ({ f, text: readIfExists(src, f) }))
      .filter((x): x is { f: string; text: string } => x.text !== undefined)
    if (existing.length === 0)
      throw new InputError(
        'kubeconfig',
        '',
        `is empty and ${source} (${files.join(', ')}) does not exist; give "kubeconfig", or "kubeconfig-env"/"kubeconfig-file" per cluster`
      )
    try {
      cached = { source, documents: existing.flatMap((x) => parseKubeconfigs(x.text, path.dirname(x.f))) }
    } catch (e) {
      if (e instanceof KubeconfigProblem) throw new InputError('kubeconfig', '', `${source} ${e.message}`)
      throw e
    }
    return cached
  }
}

function readIfExists(src: ConfigSource, file: string): string | undefined {
  try {
    return src.readFile(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InputError('kubeconfig', '', `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
  }
}

function readFileFor(src: ConfigSource, file: string, input: string, where: string): string {
  try {
    return src.readFile(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError(
      input,
      where,
      code === 'ENOENT' ? `file ${file} does not exist` : `cannot read ${file} (${code ?? String(e)})`
    )
  }
}
