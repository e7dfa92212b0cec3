/**
 * The trust material of the registry signature requirement, read from the files the user named
 * (--sigstore-key, --sigstore-trusted-root, or the profile's requireSignatures). Every unreadable
 * file is reported at once, as KEY_INVALID (exit 7) even beside good ones: a key the user meant to
 * trust and that cannot be read must stop the deploy, not narrow the trust silently.
 */
import {aggregateErrors, SafeDeployError} from '../../core/errors.js'
import type {SignatureRequirement} from '../../core/signatures/types.js'
import {readTextFile} from './files.js'

export interface SignatureMaterialFiles {
  keys: string[]
  identities: SignatureRequirement['identities']
  trustedRoot?: string | undefined
  attestationTypes: string[]
}

export function readSignatureRequirement(files: SignatureMaterialFiles): SignatureRequirement {
  const problems: SafeDeployError[] = []
  const read = (path: string, what: string): string | undefined => {
    try {
      return readTextFile(path, what, {code: 'KEY_INVALID', location: true})
    } catch (err) {
      if (!(err instanceof SafeDeployError)) throw err
      problems.push(err)
      return undefined
    }
  }
  const keys = files.keys.flatMap((name) => {
    const pem = read(name, 'Sigstore public key')
    return pem === undefined ? [] : [{name, pem}]
  })
  let trustedRoot: SignatureRequirement['trustedRoot']
  if (files.trustedRoot !== undefined) {
    const text = read(files.trustedRoot, 'Sigstore trusted root')
    if (text !== undefined) {
      try {
        trustedRoot = {name: files.trustedRoot, json: JSON.parse(text) as unknown}
      } catch (err) {
        problems.push(
          new SafeDeployError('KEY_INVALID', `${files.trustedRoot} is not JSON: ${(err as Error).message}`, {
            location: {file: files.trustedRoot},
            hint: 'give the trusted root JSON cosign reads with --trusted-root (e.g. from `cosign trusted-root create`)',
          }),
        )
      }
    }
  }
  if (problems.length > 0) throw aggregateErrors(problems, 'file')
  return {keys, identities: files.identities, ...(trustedRoot ? {trustedRoot} : {}), attestationTypes: files.attestationTypes}
}
