/**
 * Local trust material: a policy file (gcloud `policy export` YAML/JSON), a directory of attestors
 * (`attestors describe --format=json`) and a directory of attestation occurrences
 * (`attestations list --format=json`). Implements the PolicySource / AttestorSource /
 * AttestationSource ports.
 */
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {SafeDeployError} from '../../core/errors.js'
import {parsePolicyText, parseSystemPolicyText} from '../../core/policy/parse.js'
import {SYSTEM_ALLOWLIST} from '../../core/policy/allowlist.js'
import {parseAttestor, parseOccurrences, digestOfResourceUri} from '../../core/attestation/parse.js'
import type {Attestor, AttestationOccurrence} from '../../core/attestation/types.js'
import type {Policy} from '../../core/policy/types.js'
import type {AttestationQuery, AttestationSource, AttestorSource, PolicySource} from '../../core/ports.js'
import {readTextFile, requirePath} from './files.js'

function readText(path: string, what: string, code: 'POLICY_INVALID' | 'ATTESTOR_INVALID' | 'ATTESTATION_INVALID' | 'INVALID_INPUT'): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new SafeDeployError(code, `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      location: {file: path},
      hint: `check the path given for the ${what}`,
    })
  }
}

function jsonFiles(dir: string, what: string, code: 'ATTESTOR_INVALID' | 'ATTESTATION_INVALID'): string[] {
  let entries: string[]
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory')
    entries = readdirSync(dir)
  } catch (err) {
    throw new SafeDeployError(code, `cannot read the ${what} directory ${dir}: ${(err as Error).message}`, {location: {file: dir}})
  }
  return entries
    .filter((f) => /\.(json|ya?ml)$/i.test(f))
    .sort()
    .map((f) => join(dir, f))
}

function parseJsonFile(path: string, what: string, code: 'ATTESTOR_INVALID' | 'ATTESTATION_INVALID'): unknown {
  const text = readText(path, what, code)
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new SafeDeployError(code, `${path}: ${what} is not valid JSON: ${(err as Error).message}`, {
      location: {file: path},
      hint: 'write it with `--format=json`',
    })
  }
}

export class FilePolicySource implements PolicySource {
  constructor(private readonly path: string) {}
  async getPolicy(): Promise<Policy> {
    return parsePolicyText(readText(this.path, 'policy file', 'POLICY_INVALID'), this.path)
  }
}

export class DirAttestorSource implements AttestorSource {
  private cache: Map<string, Attestor> | undefined
  constructor(private readonly dir: string) {}

  private load(): Map<string, Attestor> {
    if (this.cache) return this.cache
    const map = new Map<string, Attestor>()
    for (const file of jsonFiles(this.dir, 'attestors', 'ATTESTOR_INVALID')) {
      const json = parseJsonFile(file, 'attestor', 'ATTESTOR_INVALID')
      for (const item of Array.isArray(json) ? json : [json]) {
        const a = parseAttestor(item, file)
        map.set(a.name, a)
      }
    }
    this.cache = map
    return map
  }

  async getAttestor(name: string): Promise<Attestor> {
    const a = this.load().get(name)
    if (!a) {
      const known = [...this.load().keys()]
      throw new SafeDeployError('ATTESTOR_UNKNOWN', `attestor ${name} is required by the policy but not found in ${this.dir}`, {
        hint:
          `export it: gcloud container binauthz attestors describe ${name} --format=json > ${this.dir}/${name.split('/').pop() ?? 'attestor'}.json` +
          (known.length ? ` (found: ${known.join(', ')})` : ''),
      })
    }
    return a
  }
}

export class DirAttestationSource implements AttestationSource {
  private index: Map<string, AttestationOccurrence[]> | undefined
  constructor(private readonly dir: string) {}

  private load(): Map<string, AttestationOccurrence[]> {
    if (this.index) return this.index
    const index = new Map<string, AttestationOccurrence[]>()
    for (const file of jsonFiles(this.dir, 'attestations', 'ATTESTATION_INVALID')) {
      for (const occ of parseOccurrences(parseJsonFile(file, 'attestation', 'ATTESTATION_INVALID'), file)) {
        const digest = digestOfResourceUri(occ.resourceUri)
        if (digest === undefined) continue
        const key = digest
        const list = index.get(key) ?? []
        list.push(occ)
        index.set(key, list)
      }
    }
    this.index = index
    return index
  }

  async listAttestations(q: AttestationQuery): Promise<AttestationOccurrence[]> {
    // Every occurrence for the digest is returned, also those on other notes: the verifier skips
    // them (docs/binauthz.md#notes-and-occurrences) and says why, which explains a denial better than silence.
    return this.load().get(q.digest) ?? []
  }
}

/** The next step when a trust file or directory given does not exist. */
export const TRUST_PATH_HINTS = {
  policy: 'export it with `gcloud container binauthz policy export > policy.yaml`, or omit it and give --project to read the policy from the API',
  attestors:
    'a directory of `gcloud container binauthz attestors describe ATTESTOR --format=json > DIR/NAME.json` files, one per attestor; or omit it to read the attestors from the Binary Authorization API',
  attestations:
    'a directory of `gcloud container binauthz attestations list --attestor=ATTESTOR --format=json` files (empty: no attestations yet); or omit it and give --project to read them from Container Analysis',
  systemPolicy:
    'export it with `gcloud alpha container binauthz policy export-system-policy > system-policy.yaml`, or omit it to use the built-in (approximate) list',
} as const

/**
 * The policy file and the attestor and attestation directories in force must exist: INVALID_INPUT
 * (exit 3) naming each as `named` says (the flag, or the profile key it came from) and its path.
 */
export function requireTrustPaths(
  trust: {policy?: string | undefined; attestors?: string | undefined; attestations?: string | undefined},
  named: (key: 'policy' | 'attestors' | 'attestations') => string,
): void {
  if (trust.policy !== undefined) requirePath({flag: named('policy'), path: trust.policy, kind: 'file', hint: TRUST_PATH_HINTS.policy})
  if (trust.attestors !== undefined) requirePath({flag: named('attestors'), path: trust.attestors, kind: 'directory', hint: TRUST_PATH_HINTS.attestors})
  if (trust.attestations !== undefined) {
    requirePath({flag: named('attestations'), path: trust.attestations, kind: 'directory', hint: TRUST_PATH_HINTS.attestations})
  }
}

/** An exported system policy file, else the built-in approximate list. `flag` names the file in the error when it does not exist. */
export function systemAllowlist(file: string | undefined, flag = '--system-policy'): {patterns: string[]; approximate: boolean} {
  if (!file) return {patterns: [...SYSTEM_ALLOWLIST], approximate: true}
  requirePath({flag, path: file, kind: 'file', hint: TRUST_PATH_HINTS.systemPolicy})
  const sys = parseSystemPolicyText(readTextFile(file, 'system policy file'), file)
  return {patterns: sys.patterns, approximate: false}
}
