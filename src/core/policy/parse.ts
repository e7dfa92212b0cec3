/**
 * Strict parsing of a Binary Authorization policy: gcloud `policy export` YAML/JSON (with 1-based lines) or the REST
 * JSON object. Every problem is collected, then one SafeDeployError POLICY_INVALID lists them all
 * (`file:line: field: expected X, got Y`), like gcloud's DecodeError plus the API's import-time checks (docs/binauthz.md#policy-file-formats).
 */
import {describe, isNull, objectTree, policyDocumentTree, problemsError, type Problem, type Tree} from '../input-tree.js'
import {SafeDeployError} from '../errors.js'
import {systemAllowlistFromPolicy, validatePattern, type SystemAllowlist} from './allowlist.js'
import {
  ENFORCEMENT_MODES,
  EVALUATION_MODES,
  GLOBAL_POLICY_EVALUATION_MODES,
  RULE_MAP_FIELDS,
  type AdmissionRule,
  type AllowlistPattern,
  type EnforcementMode,
  type EvaluationMode,
  type GlobalPolicyEvaluationMode,
  type Policy,
  type RuleKind,
} from './types.js'
import {parseAttestorName, parseLocationPolicyName, parseProjectPolicyName} from '../resource-names.js'

/** A parsed value with its line, from YAML (lines) or a plain object (no lines). */

const POLICY_FIELDS = [
  'name',
  'description',
  'etag',
  'updateTime',
  'globalPolicyEvaluationMode',
  'admissionWhitelistPatterns',
  'clusterAdmissionRules',
  'kubernetesNamespaceAdmissionRules',
  'kubernetesServiceAccountAdmissionRules',
  'istioServiceIdentityAdmissionRules',
  'defaultAdmissionRule',
] as const
const RULE_FIELDS = ['evaluationMode', 'enforcementMode', 'requireAttestationsBy'] as const

const EVALUATION_MODE_NUMBERS: Record<number, string> = {0: 'EVALUATION_MODE_UNSPECIFIED', 1: 'ALWAYS_ALLOW', 2: 'REQUIRE_ATTESTATION', 3: 'ALWAYS_DENY'}
const ENFORCEMENT_MODE_NUMBERS: Record<number, string> = {0: 'ENFORCEMENT_MODE_UNSPECIFIED', 1: 'ENFORCED_BLOCK_AND_AUDIT_LOG', 2: 'DRYRUN_AUDIT_LOG_ONLY'}
const GLOBAL_MODE_NUMBERS: Record<number, string> = {0: 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED', 1: 'ENABLE', 2: 'DISABLE'}

const CLUSTER_KEY_RE = /^[a-z0-9][a-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9_-]*$/
const NAMESPACE_KEY_RE = /^[a-z0-9.-]+$/
const SERVICE_ACCOUNT_KEY_RE = /^[a-z0-9.-]+:[a-z0-9.-]+$/
const ISTIO_KEY_RE = /^(?:spiffe:\/\/)?[^/\s]+\/ns\/[^/\s]+\/sa\/[^/\s]+$/
const SHORT_ATTESTOR_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*$/

const MAP_KEYS: Record<Exclude<RuleKind, 'default'>, {re: RegExp; expected: string}> = {
  cluster: {re: CLUSTER_KEY_RE, expected: 'a cluster key LOCATION.CLUSTER_NAME (e.g. us-central1-a.prod-cluster)'},
  namespace: {re: NAMESPACE_KEY_RE, expected: 'a Kubernetes namespace name ([a-z0-9.-]+, e.g. some-namespace)'},
  serviceAccount: {re: SERVICE_ACCOUNT_KEY_RE, expected: 'NAMESPACE:SERVICE_ACCOUNT (e.g. test-ns:default)'},
  istioIdentity: {
    re: ISTIO_KEY_RE,
    expected: 'an Istio identity [spiffe://]DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT (e.g. spiffe://example.com/ns/test-ns/sa/default)',
  },
}

export interface ParseOptions {
  /**
   * Parse a system policy (`export-system-policy` output): `defaultAdmissionRule` is not required. Only its
   * allowlist is used (systemAllowlistFromPolicy).
   */
  systemPolicy?: boolean
}

// ---------------------------------------------------------------------------------------------------------------
// Validation

class Checker {
  readonly problems: Problem[] = []
  readonly notes: string[] = []
  project: string | undefined

  add(path: string, line: number | undefined, message: string): void {
    this.problems.push({path, line, message})
  }

  expect(path: string, t: Tree | undefined, expected: string, line?: number): void {
    this.add(path, line ?? t?.line, `expected ${expected}, got ${describe(t)}`)
  }

  string(path: string, t: Tree | undefined): string | undefined {
    if (t?.t === 'scalar' && typeof t.value === 'string') return t.value
    this.expect(path, t, 'a string')
    return undefined
  }

  enumValue<T extends string>(
    path: string,
    t: Tree | undefined,
    allowed: readonly T[],
    numbers: Record<number, string>,
    line: number | undefined,
  ): T | string | undefined {
    if (t?.t === 'scalar' && typeof t.value === 'number' && Number.isInteger(t.value)) {
      const name = numbers[t.value]
      if (name !== undefined) return name
    }
    if (t?.t === 'scalar' && typeof t.value === 'string') {
      if ((allowed as readonly string[]).includes(t.value)) return t.value
      return t.value // the caller reports unknown / UNSPECIFIED values with its own wording
    }
    this.expect(path, t, `one of ${allowed.join(', ')}`, line)
    return undefined
  }

  unknownFields(path: string, t: Extract<Tree, {t: 'map'}>, known: readonly string[], what: string): void {
    for (const e of t.entries) {
      if (known.includes(e.key)) continue
      const camel = e.key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
      const suggestion = camel !== e.key && known.includes(camel) ? ` (did you mean ${camel}? the file uses the camelCase REST/YAML names)` : ''
      this.add(
        path === '' ? e.key : `${path}.${e.key}`,
        e.keyLine,
        `expected a known ${what} field (${known.join(', ')}), got unknown field "${e.key}"${suggestion}`,
      )
    }
  }

  map(path: string, t: Tree | undefined, line: number | undefined): Extract<Tree, {t: 'map'}> | undefined {
    if (t?.t === 'map') return t
    this.expect(path, t, 'a mapping', line)
    return undefined
  }

  attestor(path: string, t: Tree): string | undefined {
    const name = this.string(path, t)
    if (name === undefined) return undefined
    if (parseAttestorName(name, {noSpace: true})) return name
    if (SHORT_ATTESTOR_RE.test(name)) {
      if (this.project !== undefined) {
        const full = `projects/${this.project}/attestors/${name}`
        this.notes.push(`${path}: short attestor name "${name}" read as ${full} (the policy's project).`)
        return full
      }
      this.add(
        path,
        t.line,
        `expected a full attestor name projects/PROJECT/attestors/ATTESTOR, got short name "${name}" (the policy has no name: projects/PROJECT/policy to take the project from; write the full name)`,
      )
      return undefined
    }
    this.add(path, t.line, `expected an attestor name projects/PROJECT/attestors/ATTESTOR, got ${JSON.stringify(name)}`)
    return undefined
  }

  rule(path: string, t: Tree | undefined, line: number | undefined): AdmissionRule | undefined {
    const m = this.map(path, t, line)
    if (!m) return undefined
    this.unknownFields(path, m, RULE_FIELDS, 'AdmissionRule')
    const get = (k: string): {key: string; keyLine: number | undefined; value: Tree} | undefined => m.entries.find((e) => e.key === k)
    const ruleLine = line ?? m.line
    let ok = true

    const ev = get('evaluationMode')
    let evaluationMode: EvaluationMode | undefined
    if (isNull(ev?.value)) {
      this.add(
        `${path}.evaluationMode`,
        ev?.keyLine ?? ruleLine,
        `expected one of ${EVALUATION_MODES.join(', ')} (the field is required), got ${ev ? 'null' : 'nothing'}`,
      )
      ok = false
    } else {
      const v = this.enumValue(`${path}.evaluationMode`, ev?.value, EVALUATION_MODES, EVALUATION_MODE_NUMBERS, ev?.keyLine)
      if (v !== undefined && (EVALUATION_MODES as readonly string[]).includes(v)) evaluationMode = v as EvaluationMode
      else {
        ok = false
        if (v !== undefined) {
          const why = v === 'EVALUATION_MODE_UNSPECIFIED' ? ' (UNSPECIFIED is rejected by the API: choose a mode)' : ''
          this.add(`${path}.evaluationMode`, ev?.value.line, `expected one of ${EVALUATION_MODES.join(', ')}, got ${JSON.stringify(v)}${why}`)
        }
      }
    }

    const en = get('enforcementMode')
    let enforcementMode: EnforcementMode | undefined
    if (isNull(en?.value)) {
      this.add(
        `${path}.enforcementMode`,
        en?.keyLine ?? ruleLine,
        `expected one of ${ENFORCEMENT_MODES.join(', ')} (the field is required), got ${en ? 'null' : 'nothing'}`,
      )
      ok = false
    } else {
      const v = this.enumValue(`${path}.enforcementMode`, en?.value, ENFORCEMENT_MODES, ENFORCEMENT_MODE_NUMBERS, en?.keyLine)
      if (v !== undefined && (ENFORCEMENT_MODES as readonly string[]).includes(v)) enforcementMode = v as EnforcementMode
      else {
        ok = false
        if (v !== undefined) {
          const why = v === 'ENFORCEMENT_MODE_UNSPECIFIED' ? ' (UNSPECIFIED is rejected by the API: choose a mode)' : ''
          this.add(`${path}.enforcementMode`, en?.value.line, `expected one of ${ENFORCEMENT_MODES.join(', ')}, got ${JSON.stringify(v)}${why}`)
        }
      }
    }

    const ra = get('requireAttestationsBy')
    const attestors: string[] = []
    let attestorsLine = ra?.keyLine
    if (ra && !isNull(ra.value)) {
      if (ra.value.t !== 'seq') {
        this.expect(`${path}.requireAttestationsBy`, ra.value, 'a list of attestor names', ra.keyLine)
        ok = false
      } else {
        attestorsLine = ra.keyLine ?? ra.value.line
        ra.value.items.forEach((item, i) => {
          const a = this.attestor(`${path}.requireAttestationsBy[${i}]`, item)
          if (a === undefined) ok = false
          else if (!attestors.includes(a)) attestors.push(a)
        })
      }
    }
    const count = ra && ra.value.t === 'seq' ? ra.value.items.length : 0
    if (evaluationMode === 'REQUIRE_ATTESTATION' && count === 0 && !(ra && !isNull(ra.value) && ra.value.t !== 'seq')) {
      this.add(
        `${path}.requireAttestationsBy`,
        attestorsLine ?? ev?.keyLine ?? ruleLine,
        'expected at least one attestor when evaluationMode is REQUIRE_ATTESTATION, got none',
      )
      ok = false
    }
    if (evaluationMode !== undefined && evaluationMode !== 'REQUIRE_ATTESTATION' && count > 0) {
      this.add(
        `${path}.requireAttestationsBy`,
        attestorsLine ?? ruleLine,
        `expected no attestors when evaluationMode is ${evaluationMode} (they are only allowed with REQUIRE_ATTESTATION), got ${count}`,
      )
      ok = false
    }
    if (!ok || evaluationMode === undefined || enforcementMode === undefined) return undefined
    return {evaluationMode, enforcementMode, requireAttestationsBy: attestors, ...(ruleLine === undefined ? {} : {line: ruleLine})}
  }
}

function fieldPath(field: string, key: string): string {
  return `${field}[${JSON.stringify(key)}]`
}

function validatePolicy(root: Tree, source: string, options: ParseOptions): {policy: Policy | undefined; problems: Problem[]} {
  const c = new Checker()
  if (root.t !== 'map') {
    c.expect('policy', root, 'a mapping with the Policy fields (defaultAdmissionRule, ...)')
    return {policy: undefined, problems: c.problems}
  }
  c.unknownFields('', root, POLICY_FIELDS, 'Policy')
  const get = (k: string): {key: string; keyLine: number | undefined; value: Tree} | undefined => root.entries.find((e) => e.key === k)

  const out: Partial<Policy> = {}
  // name first: it gives the project used to complete short attestor names.
  const nameEntry = get('name')
  if (nameEntry && !isNull(nameEntry.value)) {
    const name = c.string('name', nameEntry.value)
    if (name !== undefined) {
      const pm = parseProjectPolicyName(name, {noSpace: true})
      if (pm) {
        out.name = name
        c.project = pm.project
        out.project = c.project
      } else if (parseLocationPolicyName(name, {noSpace: true})) {
        out.name = name
      } else {
        c.add(
          'name',
          nameEntry.value.line,
          `expected projects/PROJECT/policy (or locations/LOCATION/policy for the system policy), got ${JSON.stringify(name)}`,
        )
      }
    }
  }
  for (const f of ['description', 'etag', 'updateTime'] as const) {
    const e = get(f)
    if (e && !isNull(e.value)) {
      const s = c.string(f, e.value)
      if (s !== undefined) out[f] = s
    }
  }

  const gm = get('globalPolicyEvaluationMode')
  let globalMode: GlobalPolicyEvaluationMode = 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED'
  if (gm && !isNull(gm.value)) {
    const v = c.enumValue('globalPolicyEvaluationMode', gm.value, GLOBAL_POLICY_EVALUATION_MODES, GLOBAL_MODE_NUMBERS, gm.keyLine)
    if (v !== undefined) {
      if ((GLOBAL_POLICY_EVALUATION_MODES as readonly string[]).includes(v)) globalMode = v as GlobalPolicyEvaluationMode
      else c.add('globalPolicyEvaluationMode', gm.value.line, `expected one of ${GLOBAL_POLICY_EVALUATION_MODES.join(', ')}, got ${JSON.stringify(v)}`)
    }
  }

  const patterns: AllowlistPattern[] = []
  const wl = get('admissionWhitelistPatterns')
  if (wl && !isNull(wl.value)) {
    if (wl.value.t !== 'seq') c.expect('admissionWhitelistPatterns', wl.value, 'a list of {namePattern: ...}', wl.keyLine)
    else {
      wl.value.items.forEach((item, i) => {
        const p = `admissionWhitelistPatterns[${i}]`
        const m = c.map(p, item, item.line)
        if (!m) return
        c.unknownFields(p, m, ['namePattern'], 'AdmissionWhitelistPattern')
        const np = m.entries.find((e) => e.key === 'namePattern')
        if (!np) {
          c.add(`${p}.namePattern`, m.line, 'expected an image name pattern (e.g. gcr.io/my-project/*), got nothing')
          return
        }
        const s = c.string(`${p}.namePattern`, np.value)
        if (s === undefined) return
        const why = validatePattern(s)
        if (why !== undefined) {
          c.add(`${p}.namePattern`, np.value.line ?? np.keyLine, `expected a valid allowlist pattern (${why}), got ${JSON.stringify(s)}`)
          return
        }
        const line = np.value.line ?? np.keyLine
        patterns.push({namePattern: s, ...(line === undefined ? {} : {line})})
      })
    }
  }

  const maps = {} as Record<Exclude<RuleKind, 'default'>, Record<string, AdmissionRule>>
  const nonEmpty: Array<{field: string; line: number | undefined}> = []
  for (const kind of ['cluster', 'namespace', 'serviceAccount', 'istioIdentity'] as const) {
    const field = RULE_MAP_FIELDS[kind]
    const rules: Record<string, AdmissionRule> = {}
    maps[kind] = rules
    const e = get(field)
    if (!e || isNull(e.value)) continue
    const m = c.map(field, e.value, e.keyLine)
    if (!m) continue
    if (m.entries.length > 0) nonEmpty.push({field, line: e.keyLine})
    const {re, expected} = MAP_KEYS[kind]
    for (const entry of m.entries) {
      const p = fieldPath(field, entry.key)
      if (!re.test(entry.key)) c.add(p, entry.keyLine, `expected ${expected}, got ${JSON.stringify(entry.key)}`)
      const rule = c.rule(p, entry.value, entry.keyLine)
      if (rule && re.test(entry.key)) rules[entry.key] = rule
    }
  }
  if (nonEmpty.length > 1) {
    const [first, ...rest] = nonEmpty
    for (const r of rest) {
      c.add(
        r.field,
        r.line,
        `expected at most one non-empty scoped rule map (a v1 policy uses one of clusterAdmissionRules, kubernetesNamespaceAdmissionRules, kubernetesServiceAccountAdmissionRules, istioServiceIdentityAdmissionRules), got both ${first?.field} and ${r.field}`,
      )
    }
  }

  const d = get('defaultAdmissionRule')
  let defaultRule: AdmissionRule | undefined
  if (!d || isNull(d.value)) {
    if (!options.systemPolicy)
      c.add('defaultAdmissionRule', d?.keyLine ?? root.line, `expected an AdmissionRule (the field is required), got ${d ? 'null' : 'nothing'}`)
  } else {
    defaultRule = c.rule('defaultAdmissionRule', d.value, d.keyLine)
  }

  if (c.problems.length > 0) return {policy: undefined, problems: c.problems}
  const policy: Policy = {
    ...out,
    globalPolicyEvaluationMode: globalMode,
    admissionWhitelistPatterns: patterns,
    clusterAdmissionRules: maps.cluster,
    kubernetesNamespaceAdmissionRules: maps.namespace,
    kubernetesServiceAccountAdmissionRules: maps.serviceAccount,
    istioServiceIdentityAdmissionRules: maps.istioIdentity,
    // System policy without a default rule: a placeholder that is never evaluated (only its allowlist is used).
    defaultAdmissionRule: defaultRule ?? {evaluationMode: 'ALWAYS_DENY', enforcementMode: 'ENFORCED_BLOCK_AND_AUDIT_LOG', requireAttestationsBy: []},
    source,
    ...(c.notes.length > 0 ? {notes: c.notes} : {}),
  }
  return {policy, problems: []}
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

const HINT =
  'fix the fields listed; the file format is what `gcloud container binauthz policy export` writes ' +
  '(https://cloud.google.com/binary-authorization/docs/policy-yaml-reference)'

/** A listed policy problem without the `file:line: ` it starts with (for renderers that say where themselves). */
export function problemText(err: SafeDeployError): string {
  const file = err.location?.file
  if (file === undefined) return err.message
  const where = `${file}${err.location?.line === undefined ? '' : `:${err.location.line}`}: `
  return err.message.startsWith(where) ? err.message.slice(where.length) : err.message
}

function finish(root: Tree, source: string, options: ParseOptions): Policy {
  const {policy, problems} = validatePolicy(root, source, options)
  if (!policy) throw problemsError('POLICY_INVALID', source, 'invalid Binary Authorization policy', problems, HINT)
  return policy
}

// ---------------------------------------------------------------------------------------------------------------
// Public API

/** Parse a policy file (YAML or JSON, as `gcloud container binauthz policy export` writes it). */
export function parsePolicyText(text: string, file: string, options: ParseOptions = {}): Policy {
  const tree = policyDocumentTree(text, file, {
    title: 'invalid Binary Authorization policy',
    empty: {
      message: 'the policy file is empty; expected a Binary Authorization policy with at least defaultAdmissionRule',
      hint: 'export the project policy with `gcloud container binauthz policy export > policy.yaml`',
    },
    hint: HINT,
  })
  return finish(tree, file, options)
}

/** Validate a policy object from the REST API (`GET v1/projects/P/policy`); problems carry no line numbers. */
export function parsePolicyObject(obj: unknown, source: string, options: ParseOptions = {}): Policy {
  return finish(objectTree(obj), source, options)
}

/**
 * Parse an exported system policy (`gcloud alpha container binauthz policy export-system-policy`) into the exemption
 * list used when globalPolicyEvaluationMode is ENABLE (exact, not approximate). defaultAdmissionRule is optional.
 */
export function parseSystemPolicyText(text: string, file: string): SystemAllowlist {
  return systemAllowlistFromPolicy(parsePolicyText(text, file, {systemPolicy: true}))
}
