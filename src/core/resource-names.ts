/**
 * Google resource names (`projects/P/attestors/A`, `projects/P/notes/N`, …): the one place that
 * parses them. Each parser returns the name's variable parts, or undefined when `name` does not
 * have that form. A part is anything but `/`; with `{noSpace: true}` it may not contain
 * whitespace either (names read from policy and attestor files, and written by `init`).
 */
import {SafeDeployError} from './errors.js'

export interface NameOptions {
  /** Refuse whitespace inside a part. */
  noSpace?: boolean
}

type NameParser<K extends string> = (name: string, options?: NameOptions) => Readonly<Record<K, string>> | undefined

/** A parser for `template`, where each `{key}` is one part of the name. */
function nameParser<K extends string>(template: string): NameParser<K> {
  const compile = (part: string): RegExp => new RegExp('^' + template.replace(/\{(\w+)\}/g, (_, key: string) => `(?<${key}>${part})`) + '$')
  const loose = compile('[^/]+')
  const strict = compile('[^/\\s]+')
  return (name, options = {}) => (options.noSpace === true ? strict : loose).exec(name)?.groups as Readonly<Record<K, string>> | undefined
}

/** `projects/P` or `projects/P/…` → P */
export function projectOf(name: string): string | undefined {
  return /^projects\/([^/]+)/.exec(name)?.[1]
}

/** `projects/P/attestors/A` */
export const parseAttestorName = nameParser<'project' | 'attestor'>('projects/{project}/attestors/{attestor}')

/** `projects/P/notes/N` (Container Analysis note) */
export const parseNoteName = nameParser<'project' | 'note'>('projects/{project}/notes/{note}')

/** `providers/P/notes/N` (the v1beta1 form of a note reference) */
export const parseLegacyNoteName = nameParser<'provider' | 'note'>('providers/{provider}/notes/{note}')

/** `projects/P/policy` (a project's Binary Authorization policy) */
export const parseProjectPolicyName = nameParser<'project'>('projects/{project}/policy')

/** `locations/L/policy` (a system policy) */
export const parseLocationPolicyName = nameParser<'location'>('locations/{location}/policy')

/** `projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/V` (Cloud KMS key version) */
export const parseKmsKeyVersionName = nameParser<'project' | 'location' | 'keyRing' | 'cryptoKey' | 'version'>(
  'projects/{project}/locations/{location}/keyRings/{keyRing}/cryptoKeys/{cryptoKey}/cryptoKeyVersions/{version}',
)

/** `projects/P/locations/L/clusters/C` (GKE cluster) */
export const parseClusterName = nameParser<'project' | 'location' | 'cluster'>('projects/{project}/locations/{location}/clusters/{cluster}')

/** `projects/P/locations/L/services/S` (Cloud Run service) */
export const parseServiceName = nameParser<'project' | 'location' | 'service'>('projects/{project}/locations/{location}/services/{service}')

/**
 * A --cluster value as cluster admission rules are keyed (LOCATION.NAME). Anything else can never
 * match a rule, so the default rule would be evaluated (or explained) in silence: refused instead.
 */
export function requireClusterKey(value: string): string {
  if (!/^[^.\s]+\.[^\s]+$/.test(value)) throw new SafeDeployError('USAGE', `--cluster expects LOCATION.NAME (e.g. us-central1.prod), got "${value}"`)
  return value
}
