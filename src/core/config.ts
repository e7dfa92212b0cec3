/**
 * The config file (.safe-deploy.yaml): custom image rules and per-environment profiles, validated
 * with file and line. Pure: text in, config out (src/cli/config.ts reads the file).
 * Precedence, in one place (src/cli/options.ts): flags > environment variables > profile > defaults.
 */
import {LineCounter, isMap, isSeq, isScalar, type Node, type Scalar} from 'yaml'
import {parseDocument} from './yaml-read.js'
import {SafeDeployError} from './errors.js'
import type {CustomImageRule} from './manifest/types.js'

export const DEFAULT_CONFIG_FILE = '.safe-deploy.yaml'

export interface Profile {
  name: string
  /** Where it deploys; `platform:` is the deprecated spelling (parseConfigText turns it into this, with a warning). */
  target?: 'gke' | 'cloudrun'
  context?: string
  /** Several kubeconfig contexts: `apply` deploys one plan to each, in waves (docs/architecture.md#many-clusters). */
  contexts?: string[]
  kubeconfig?: string
  namespace?: string
  cluster?: string
  project?: string
  region?: string
  policy?: string
  systemPolicy?: string
  attestors?: string
  attestations?: string
  auditLog?: string
  reportMd?: string
  reportJunit?: string
  requireEnforcement?: boolean
  serviceAccount?: string
  applier?: 'kubectl' | 'api'
  /** Registry signatures required for every image (docs/sigstore.md): the --sigstore-* flags, per environment. */
  requireSignatures?: RequireSignatures
  /** A GKE platform policy file evaluated besides the classic policy (--platform-policy). */
  platformPolicy?: string
  /** `monitor`: report the platform verdict and exit 0 for it, as continuous validation does (--platform-policy-mode). */
  platformPolicyMode?: 'enforce' | 'monitor'
}

/** A profile's `requireSignatures:` (each key is the --sigstore-* flag of the same meaning; flags win key by key). */
export interface RequireSignatures {
  keys?: string[]
  identities?: Array<{subject?: string; subjectRegexp?: string; issuer: string}>
  trustedRoot?: string
  attestationTypes?: string[]
  repository?: string
}

export interface SafeDeployConfig {
  file?: string
  imageRules: CustomImageRule[]
  profiles: Record<string, Profile>
  defaultProfile?: string
  /** Deprecated spellings that were accepted, each naming file:line and the new spelling. */
  warnings?: string[]
}

/** Every profile setting and its type: Profile is closed, and this table is its runtime mirror. */
const PROFILE_KEYS: Record<Exclude<keyof Profile, 'name'>, 'string' | 'boolean' | 'object' | 'list'> = {
  target: 'string',
  context: 'string',
  contexts: 'list',
  kubeconfig: 'string',
  namespace: 'string',
  cluster: 'string',
  project: 'string',
  region: 'string',
  policy: 'string',
  systemPolicy: 'string',
  attestors: 'string',
  attestations: 'string',
  auditLog: 'string',
  reportMd: 'string',
  reportJunit: 'string',
  requireEnforcement: 'boolean',
  serviceAccount: 'string',
  applier: 'string',
  requireSignatures: 'object',
  platformPolicy: 'string',
  platformPolicyMode: 'string',
}

function lineOf(node: Node | null | undefined, lc: LineCounter): number | undefined {
  const start = node?.range?.[0]
  return start === undefined ? undefined : lc.linePos(start).line
}

export function parseConfigText(text: string, file: string): SafeDeployConfig {
  const lc = new LineCounter()
  const doc = parseDocument(text, {lineCounter: lc, prettyErrors: false})
  const problems: SafeDeployError[] = []
  const problem = (node: Node | null | undefined, msg: string) => {
    const line = lineOf(node, lc)
    problems.push(new SafeDeployError('CONFIG_INVALID', `${file}${line ? ':' + line : ''}: ${msg}`, {location: {file, ...(line ? {line} : {})}}))
  }
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line
    problems.push(
      new SafeDeployError('CONFIG_INVALID', `${file}${line ? ':' + line : ''}: ${e.message.split('\n')[0]}`, {location: {file, ...(line ? {line} : {})}}),
    )
  }
  const cfg: SafeDeployConfig = {file, imageRules: [], profiles: {}}
  let defaultProfileNode: Node | undefined
  const root = doc.contents
  if (problems.length === 0 && root !== null && root !== undefined) {
    if (!isMap(root)) problem(root, 'expected a mapping at the top level')
    else {
      for (const pair of root.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : ''
        const value = pair.value as Node | null
        if (key === 'imageRules') {
          if (!isSeq(value)) {
            problem(value, 'imageRules: expected a list of {apiVersion?, kind, path}')
            continue
          }
          for (const item of value.items) {
            const r = (item as Node & {toJSON(): unknown}).toJSON() as Record<string, unknown>
            if (typeof r !== 'object' || r === null || typeof r.kind !== 'string' || typeof r.path !== 'string') {
              problem(item as Node, 'imageRules[]: expected kind and path (e.g. {kind: MyApp, path: spec.components[*].image})')
              continue
            }
            cfg.imageRules.push({kind: r.kind, path: r.path, ...(typeof r.apiVersion === 'string' ? {apiVersion: r.apiVersion} : {})})
          }
        } else if (key === 'defaultProfile') {
          if (!isScalar(value) || typeof value.value !== 'string') problem(value, 'defaultProfile: expected a profile name')
          else {
            cfg.defaultProfile = value.value
            defaultProfileNode = value
          }
        } else if (key === 'profiles') {
          if (!isMap(value)) {
            problem(value, 'profiles: expected a mapping of name → settings')
            continue
          }
          for (const p of value.items) {
            const name = isScalar(p.key) ? String(p.key.value) : ''
            const body = p.value as Node | null
            if (!isMap(body)) {
              problem(body, `profiles.${name}: expected a mapping`)
              continue
            }
            const profile: Profile = {name}
            const keys = new Set(body.items.map((kv) => (isScalar(kv.key) ? String(kv.key.value) : '')))
            for (const kv of body.items) {
              let k = isScalar(kv.key) ? String(kv.key.value) : ''
              const v = kv.value as Node | null
              // `platform:` was the target's name until `target:`; accepted for one release.
              if (k === 'platform') {
                if (keys.has('target')) {
                  problem(kv.key as Node, `profiles.${name}.platform: deprecated spelling of target, and target is set too: remove platform`)
                  continue
                }
                const line = lineOf(kv.key as Node, lc)
                ;(cfg.warnings ??= []).push(
                  `${file}${line ? ':' + line : ''}: profiles.${name}.platform is deprecated: use target: ${String(isScalar(v) ? v.value : '')}`,
                )
                k = 'target'
              }
              const want = (PROFILE_KEYS as Record<string, 'string' | 'boolean' | 'object' | 'list' | undefined>)[k]
              if (want === undefined) {
                problem(kv.key as Node, `profiles.${name}.${k}: unknown setting (known: ${Object.keys(PROFILE_KEYS).join(', ')})`)
                continue
              }
              if (k === 'contexts') {
                // One cluster is `context:`; both would leave it unclear which clusters a deploy goes to.
                if (keys.has('context')) {
                  problem(kv.key as Node, `profiles.${name}.contexts: context is set too: give one cluster as context, or several as contexts`)
                  continue
                }
                const list = isSeq(v) ? v.items.map((i) => (isScalar(i) && typeof i.value === 'string' && i.value !== '' ? i.value : undefined)) : []
                if (list.length === 0 || list.some((c) => c === undefined)) {
                  problem(v, `profiles.${name}.contexts: expected a list of kubeconfig context names, e.g. [gke_prod_us-east1_app, gke_prod_europe-west1_app]`)
                  continue
                }
                profile.contexts = list as string[]
                continue
              }
              if (k === 'requireSignatures') {
                const req = parseRequireSignatures(v, `profiles.${name}.requireSignatures`, problem)
                if (req !== undefined) profile.requireSignatures = req
                continue
              }
              const val = isScalar(v) ? v.value : undefined
              if (typeof val !== want) {
                problem(v, `profiles.${name}.${k}: expected a ${want}, got ${JSON.stringify(val ?? null)}`)
                continue
              }
              if (k === 'target' && val !== 'gke' && val !== 'cloudrun') {
                problem(v, `profiles.${name}.${isScalar(kv.key) ? String(kv.key.value) : k}: expected gke or cloudrun, got ${String(val)}`)
                continue
              }
              if (k === 'platformPolicyMode' && val !== 'enforce' && val !== 'monitor') {
                problem(v, `profiles.${name}.platformPolicyMode: expected enforce or monitor, got ${String(val)}`)
                continue
              }
              if (k === 'applier' && val !== 'kubectl' && val !== 'api') {
                problem(v, `profiles.${name}.applier: expected kubectl or api, got ${String(val)}`)
                continue
              }
              ;(profile as unknown as Record<string, unknown>)[k] = val
            }
            cfg.profiles[name] = profile
          }
        } else if (key === 'apiVersion' || key === 'kind') {
          // informational
        } else {
          problem(pair.key as Node, `unknown top-level key "${key}" (known: apiVersion, kind, imageRules, profiles, defaultProfile)`)
        }
      }
    }
  }
  if (cfg.defaultProfile !== undefined && !Object.hasOwn(cfg.profiles, cfg.defaultProfile)) {
    problem(
      defaultProfileNode,
      `defaultProfile "${cfg.defaultProfile}" is not defined under profiles (defined: ${Object.keys(cfg.profiles).join(', ') || 'none'})`,
    )
  }
  if (problems.length > 0) {
    // Each problem is listed once, from `errors` (each saying file:line).
    throw new SafeDeployError('CONFIG_INVALID', `invalid config file ${file} (${problems.length} problem${problems.length === 1 ? '' : 's'}):`, {
      errors: problems,
      location: {file},
      hint: 'fix the lines named above; see README "Configuration"',
    })
  }
  return cfg
}

const REQUIRE_SIGNATURES_KEYS = ['keys', 'identities', 'trustedRoot', 'attestationTypes', 'repository']

/** `requireSignatures:` strictly: known keys, lists of strings, identities with an issuer and one subject form. */
function parseRequireSignatures(
  node: Node | null,
  where: string,
  problem: (node: Node | null | undefined, msg: string) => void,
): RequireSignatures | undefined {
  if (!isMap(node)) {
    problem(node, `${where}: expected a mapping with ${REQUIRE_SIGNATURES_KEYS.join(', ')}`)
    return undefined
  }
  const out: RequireSignatures = {}
  const strings = (v: Node | null, key: string): string[] | undefined => {
    if (!isSeq(v) || !v.items.every((i) => isScalar(i) && typeof i.value === 'string' && i.value !== '')) {
      problem(v, `${where}.${key}: expected a list of strings`)
      return undefined
    }
    return v.items.map((i) => String((i as Scalar).value))
  }
  for (const kv of node.items) {
    const key = isScalar(kv.key) ? String(kv.key.value) : ''
    const v = kv.value as Node | null
    if (key === 'keys' || key === 'attestationTypes') {
      const list = strings(v, key)
      if (list) out[key] = list
    } else if (key === 'trustedRoot' || key === 'repository') {
      if (!isScalar(v) || typeof v.value !== 'string' || v.value === '') problem(v, `${where}.${key}: expected a string`)
      else out[key] = v.value
    } else if (key === 'identities') {
      if (!isSeq(v)) {
        problem(v, `${where}.identities: expected a list of {subject or subjectRegexp, issuer}`)
        continue
      }
      const identities: NonNullable<RequireSignatures['identities']> = []
      for (const item of v.items) {
        const m = isMap(item)
          ? Object.fromEntries(item.items.map((p) => [isScalar(p.key) ? String(p.key.value) : '', isScalar(p.value) ? p.value.value : undefined]))
          : {}
        const subject = m['subject']
        const subjectRegexp = m['subjectRegexp']
        const issuer = m['issuer']
        const extra = Object.keys(m).filter((k) => !['subject', 'subjectRegexp', 'issuer'].includes(k))
        if (!isMap(item) || typeof issuer !== 'string' || (typeof subject === 'string') === (typeof subjectRegexp === 'string') || extra.length > 0) {
          problem(
            item as Node,
            `${where}.identities: each entry needs issuer and exactly one of subject, subjectRegexp${extra.length ? ` (unknown: ${extra.join(', ')})` : ''}`,
          )
          continue
        }
        identities.push({...(typeof subject === 'string' ? {subject} : {subjectRegexp: String(subjectRegexp)}), issuer})
      }
      out.identities = identities
    } else {
      problem(kv.key as Node, `${where}.${key}: unknown key (known: ${REQUIRE_SIGNATURES_KEYS.join(', ')})`)
    }
  }
  return out
}

/** The profile in force: --profile / SAFE_DEPLOY_PROFILE, else defaultProfile, else none. */
export function selectProfile(cfg: SafeDeployConfig, name: string | undefined): Profile | undefined {
  const chosen = name ?? cfg.defaultProfile
  if (chosen === undefined) return undefined
  const p = Object.hasOwn(cfg.profiles, chosen) ? cfg.profiles[chosen] : undefined
  if (!p) {
    throw new SafeDeployError('USAGE', `profile "${chosen}" is not defined${cfg.file ? ' in ' + cfg.file : ' (no config file found)'}`, {
      hint: `defined profiles: ${Object.keys(cfg.profiles).join(', ') || '(none)'}; create them with \`safe-deploy init\``,
    })
  }
  return p
}
