import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto'
import { InputError } from '../errors.js'
import { ConfigSource, booleanInput, oneOf } from './inputs.js'

/** Where the mesh's root of trust comes from (the `ca` input). */
export const CA_MODES = ['generate', 'provided', 'existing', 'none'] as const
export type CaMode = (typeof CA_MODES)[number]

export interface CaConfig {
  mode: CaMode
  rootCert?: string
  rootKey?: string
  rotate: boolean
}

/** ca, ca-rotate and, with ca: provided, a root certificate and its key that belong together. */
export function parseCa(src: ConfigSource): CaConfig {
  const mode = oneOf(src, 'ca', CA_MODES, 'generate')
  const rotate = booleanInput(src, 'ca-rotate', false)
  const certText = src.input('ca-root-cert').trim()
  const keyText = src.input('ca-root-key').trim()
  if (mode !== 'provided') {
    if (certText || keyText)
      throw new InputError(
        certText ? 'ca-root-cert' : 'ca-root-key',
        '',
        `is only used with ca: provided (ca is "${mode}")`
      )
    return { mode, rotate }
  }
  if (!certText)
    throw new InputError('ca-root-cert', '', 'is required with ca: provided (the PEM of the root certificate)')
  if (!keyText)
    throw new InputError(
      'ca-root-key',
      '',
      'is required with ca: provided (the PEM of the root private key, from a secret)'
    )
  let cert: X509Certificate
  try {
    cert = new X509Certificate(certText)
  } catch {
    throw new InputError('ca-root-cert', '', 'is not a PEM certificate')
  }
  if (!cert.ca)
    throw new InputError(
      'ca-root-cert',
      '',
      `is not a CA certificate (basicConstraints CA:true), subject ${JSON.stringify(cert.subject)}`
    )
  let matches: boolean
  try {
    matches = cert.checkPrivateKey(createPrivateKey(keyText))
  } catch {
    throw new InputError('ca-root-key', '', 'is not a PEM private key (no key text is shown here)')
  }
  if (!matches)
    throw new InputError(
      'ca-root-key',
      '',
      `does not match the public key of ca-root-cert (${createPublicKey(certText).asymmetricKeyType} certificate ${JSON.stringify(cert.subject)})`
    )
  return { mode, rotate, rootCert: certText + '\n', rootKey: keyText + '\n' }
}
