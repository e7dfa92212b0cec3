/**
 * `safe-deploy policy lint`: structural errors (the strict parser's) plus warnings for the mistakes
 * teams make again and again when adopting Binary Authorization. Pure: the audit history and the
 * attestors are passed in.
 */
import {SafeDeployError} from '../errors.js'
import {parsePolicyText, problemText} from './parse.js'
import {matchPattern, patternHasTag} from './allowlist.js'
import type {AdmissionRule, Policy, RuleKind} from './types.js'
import type {Attestor} from '../attestation/types.js'

export type Severity = 'error' | 'warning'

export interface Finding {
  code: string
  severity: Severity
  /** 1-based line in the file given (0 when unknown). */
  line: number
  message: string
  fix: string
}

export interface LintInput {
  text: string
  file: string
  /** Audit history: undefined when no audit log was available. */
  audit?: {records: number; dryRunDecisions: number; file: string}
  /** Attestors found (by name) when --attestors/--project was given; undefined when not checked. */
  attestors?: Map<string, Attestor | undefined>
  /** Where the policy is used (--platform): Cloud Run findings are not raised for a GKE-only policy, and back. Default: both. */
  platform?: 'gke' | 'cloudrun'
  /** The audit log looked for when none was found (named in a note: what could not be judged). */
  missingAuditLog?: string
}

export interface LintResult {
  file: string
  findings: Finding[]
  errors: number
  warnings: number
  /** What could not be checked, and why (never a finding: a fresh setup passes --strict). */
  notes: string[]
  policy?: Policy
}

const PROD_LIKE = /(^|[-_.:/])(prod|production|prd|live)($|[-_.:/\d])/i

const SCOPED: Array<
  [
    Exclude<RuleKind, 'default'>,
    'clusterAdmissionRules' | 'kubernetesNamespaceAdmissionRules' | 'kubernetesServiceAccountAdmissionRules' | 'istioServiceIdentityAdmissionRules',
    string,
  ]
> = [
  ['cluster', 'clusterAdmissionRules', 'cluster'],
  ['namespace', 'kubernetesNamespaceAdmissionRules', 'namespace'],
  ['serviceAccount', 'kubernetesServiceAccountAdmissionRules', 'service account'],
  ['istioIdentity', 'istioServiceIdentityAdmissionRules', 'Istio identity'],
]

function sameRule(a: AdmissionRule, b: AdmissionRule): boolean {
  return (
    a.evaluationMode === b.evaluationMode &&
    a.enforcementMode === b.enforcementMode &&
    [...a.requireAttestationsBy].sort().join(',') === [...b.requireAttestationsBy].sort().join(',')
  )
}

function describeRule(r: AdmissionRule): string {
  return `${r.evaluationMode}/${r.enforcementMode}${r.requireAttestationsBy.length ? ` by ${r.requireAttestationsBy.join(', ')}` : ''}`
}

/** Cluster "family": the name without a trailing index or zone-ish suffix (prod-1, prod-a, prod-east → prod). */
function clusterFamily(key: string): string {
  const name = key.slice(key.indexOf('.') + 1)
  return name.replace(/([-_](\d+|[a-z]|east|west|north|south|central|eu|us|asia|primary|secondary|blue|green))+$/i, '')
}

export function lintPolicy(input: LintInput): LintResult {
  const findings: Finding[] = []
  let policy: Policy | undefined
  try {
    policy = parsePolicyText(input.text, input.file)
  } catch (err) {
    if (!(err instanceof SafeDeployError)) throw err
    const list = err.errors.length > 0 ? err.errors : [err]
    for (const e of list) {
      findings.push({
        code: 'E_POLICY_INVALID',
        severity: 'error',
        line: e.location?.line ?? 0,
        message: problemText(e),
        fix: e.hint ?? 'fix the field as described; `gcloud container binauthz policy import` would reject it too',
      })
    }
    return summarize(input.file, findings)
  }
  const p = policy

  if (p.globalPolicyEvaluationMode !== 'ENABLE') {
    // The line of the field when present (YAML or JSON form), else 1: where it should be added.
    const at = input.text.split('\n').findIndex((l) => /^\s*["']?globalPolicyEvaluationMode["']?\s*:/.test(l))
    findings.push({
      code: 'W_GLOBAL_EVAL_MODE',
      severity: 'warning',
      line: at >= 0 ? at + 1 : 1,
      message:
        p.globalPolicyEvaluationMode === 'DISABLE'
          ? 'globalPolicyEvaluationMode is DISABLE: Google-maintained system images must then be allowlisted by hand'
          : 'globalPolicyEvaluationMode is missing (treated as DISABLE): Google-maintained system images are evaluated against your rules and may be blocked',
      fix: 'add `globalPolicyEvaluationMode: ENABLE` (the default for new projects)',
    })
  }

  const rules: Array<{kind: RuleKind; key?: string; rule: AdmissionRule}> = [{kind: 'default', rule: p.defaultAdmissionRule}]
  for (const [kind, field] of SCOPED) for (const [key, rule] of Object.entries(p[field])) rules.push({kind, key, rule})

  for (const {kind, key, rule} of rules) {
    const label = kind === 'default' ? 'defaultAdmissionRule' : `${kind} rule "${key}"`
    const prodLike = kind !== 'default' && key !== undefined && PROD_LIKE.test(key)
    if (prodLike && rule.evaluationMode === 'ALWAYS_ALLOW') {
      findings.push({
        code: 'W_PERMISSIVE_PRODUCTION',
        severity: 'warning',
        line: rule.line ?? 0,
        message: `${label} looks production-like but is ALWAYS_ALLOW: any image deploys there`,
        fix: `write evaluationMode: REQUIRE_ATTESTATION, enforcementMode: DRYRUN_AUDIT_LOG_ONLY, requireAttestationsBy: [${ciAttestor(p)}]; enforce once the audit log shows no unexpected denials`,
      })
    } else if (prodLike && rule.enforcementMode === 'DRYRUN_AUDIT_LOG_ONLY') {
      findings.push({
        code: 'W_PRODUCTION_DRYRUN',
        severity: 'warning',
        line: rule.line ?? 0,
        message: `${label} looks production-like but is only DRYRUN_AUDIT_LOG_ONLY: denials are logged, not blocked`,
        fix: 'write enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG once the audit log shows no unexpected dry-run denials',
      })
    }
    const enforcedStrict = rule.enforcementMode === 'ENFORCED_BLOCK_AND_AUDIT_LOG' && rule.evaluationMode !== 'ALWAYS_ALLOW'
    if (enforcedStrict && input.audit !== undefined && input.audit.dryRunDecisions === 0) {
      findings.push({
        code: 'W_ENFORCED_WITHOUT_DRYRUN',
        severity: 'warning',
        line: rule.line ?? 0,
        message: `${label} is enforced, but the audit log (${input.audit.file}, ${input.audit.records} record(s)) has no dry-run decisions yet`,
        fix: 'write enforcementMode: DRYRUN_AUDIT_LOG_ONLY on this rule and deploy through safe-deploy for a while, then ENFORCED_BLOCK_AND_AUDIT_LOG',
      })
    }
    if (input.attestors) {
      for (const name of rule.requireAttestationsBy) {
        const a = input.attestors.get(name)
        if (a === undefined) {
          findings.push({
            code: 'W_ATTESTOR_NOT_FOUND',
            severity: 'warning',
            line: rule.line ?? 0,
            message: `${label} requires ${name}, which was not found`,
            fix: `create it, or export it with gcloud container binauthz attestors describe ${name} --format=json`,
          })
        } else if (a.publicKeys.length === 0) {
          findings.push({
            code: 'W_ATTESTOR_NO_KEYS',
            severity: 'warning',
            line: rule.line ?? 0,
            message: `${label} requires ${name}, which has no public keys: it never accepts an attestation, so every image is denied`,
            fix: `add a key: gcloud container binauthz attestors public-keys add --attestor=${name} --pkix-public-key-file=KEY.pem --pkix-public-key-algorithm=ecdsa-p256-sha256`,
          })
        }
      }
    }
  }

  // Clusters named alike with different rules: enforcing on one production cluster but not another.
  const families = new Map<string, Array<{key: string; rule: AdmissionRule}>>()
  for (const [key, rule] of Object.entries(p.clusterAdmissionRules)) {
    const fam = clusterFamily(key)
    families.set(fam, [...(families.get(fam) ?? []), {key, rule}])
  }
  for (const [fam, members] of families) {
    if (members.length < 2) continue
    const first = members[0] as {key: string; rule: AdmissionRule}
    for (const other of members.slice(1)) {
      if (!sameRule(first.rule, other.rule)) {
        findings.push({
          code: 'W_SIMILAR_CLUSTERS_DIFFER',
          severity: 'warning',
          line: other.rule.line ?? 0,
          message: `clusters "${first.key}" and "${other.key}" look like the same environment ("${fam}") but have different rules: ${describeRule(first.rule)} vs ${describeRule(other.rule)}`,
          fix: `give both clusters the stricter rule (an unprotected twin is the way in): ${describeRule(stricter(first.rule, other.rule))}`,
        })
      }
    }
  }

  // Allowlist patterns.
  const patterns = p.admissionWhitelistPatterns
  patterns.forEach((pat, i) => {
    const np = pat.namePattern
    const line = pat.line ?? 0
    const slash = np.indexOf('/')
    if (np.endsWith('**') && !/[/:@]\*\*$/.test(np)) {
      // `app**` also matches `app-exploit/…`; `app:**` / `app@**` cannot reach another repository.
      const stem = np.slice(0, -2)
      findings.push({
        code: 'W_BROAD_ALLOWLIST',
        severity: 'warning',
        line,
        message: `allowlist pattern "${np}" also matches sibling paths such as "${stem}-exploit/…"`,
        fix: `use "${stem}/**" to allow only what is inside ${stem}`,
      })
    } else if (slash > 0 && (np.slice(slash) === '/**' || np.slice(slash) === '/*')) {
      findings.push({
        code: 'W_BROAD_ALLOWLIST',
        severity: 'warning',
        line,
        message: `allowlist pattern "${np}" exempts ${np.endsWith('**') ? 'every image' : 'every top-level image'} in the registry ${np.slice(0, slash)}`,
        fix: `narrow it to your project or repository path, e.g. "${np.slice(0, slash)}/PROJECT/**"`,
      })
    }
    if (patternHasTag(np) && input.platform !== 'gke') {
      findings.push({
        code: 'W_TAG_PATTERN_CLOUD_RUN',
        severity: 'warning',
        line,
        message: `allowlist pattern "${np}" names a tag: it never matches on Cloud Run, which evaluates images by digest`,
        fix: `write "${withoutTag(np)}@*" (every digest of the image) or "${withoutTag(np).replace(/\/[^/]*$/, '')}/**" (its directory)`,
      })
    }
    if (/^(docker\.io|index\.docker\.io)\//.test(np)) {
      findings.push({
        code: 'W_NORMALIZED_PATTERN',
        severity: 'warning',
        line,
        message: `allowlist pattern "${np}" uses the normalized Docker Hub name; matching is on the image as written, so "nginx" or "library/nginx" does not match it`,
        fix: `add "${np.replace(/^(docker\.io|index\.docker\.io)\/(library\/)?/, '')}" for the short form your manifests use, or write the images with docker.io/ explicitly`,
      })
    }
    // One finding per pattern: the first earlier duplicate, else the first broader pattern that covers it.
    const other =
      patterns.find((o, j) => j < i && o.namePattern === np) ??
      patterns.find((o) => {
        const on = o.namePattern
        return on !== np && on.endsWith('*') && matchPattern(np.replace(/\*+$/, ''), on) === 'match' && (on.endsWith('**') || !np.endsWith('**'))
      })
    if (other !== undefined) {
      const o = other.namePattern
      findings.push({
        code: 'W_SHADOWED_ALLOWLIST',
        severity: 'warning',
        line,
        message:
          o === np
            ? `allowlist pattern "${np}" is listed twice`
            : `allowlist pattern "${np}" is shadowed by the broader "${o}"${other.line ? ` (line ${other.line})` : ''}`,
        fix: o === np ? 'remove the duplicate' : `remove "${np}", or narrow "${o}"`,
      })
    }
  })
  findings.sort((a, b) => a.line - b.line || a.code.localeCompare(b.code))
  const notes: string[] = []
  const enforced = rules.some(({rule}) => rule.enforcementMode === 'ENFORCED_BLOCK_AND_AUDIT_LOG' && rule.evaluationMode !== 'ALWAYS_ALLOW')
  if (input.audit === undefined && input.missingAuditLog !== undefined && enforced) {
    notes.push(
      `no audit log at ${input.missingAuditLog} yet: whether the enforced rules were tried in dry-run first (W_ENFORCED_WITHOUT_DRYRUN) was not checked`,
    )
  }
  return {...summarize(input.file, findings, notes), policy: p}
}

function summarize(file: string, findings: Finding[], notes: string[] = []): LintResult {
  return {
    file,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    notes,
  }
}

/** The attestor the policy already uses somewhere, for fixes that should name one. */
function ciAttestor(p: Policy): string {
  const named = [p.defaultAdmissionRule, ...SCOPED.flatMap(([, field]) => Object.values(p[field]))].flatMap((r) => r.requireAttestationsBy)
  return named[0] ?? `projects/${p.project ?? 'PROJECT'}/attestors/ATTESTOR`
}

const EVALUATION_RANK: Record<string, number> = {ALWAYS_ALLOW: 0, REQUIRE_ATTESTATION: 1, ALWAYS_DENY: 2}

/** The rule that lets fewer images through: stricter evaluation first, then enforcement over dry-run. */
function stricter(a: AdmissionRule, b: AdmissionRule): AdmissionRule {
  const rank = (r: AdmissionRule) => (EVALUATION_RANK[r.evaluationMode] ?? 0) * 2 + (r.enforcementMode === 'ENFORCED_BLOCK_AND_AUDIT_LOG' ? 1 : 0)
  return rank(b) > rank(a) ? b : a
}

/** A pattern without its tag (`gcr.io/p/app:v1` → `gcr.io/p/app`; a registry port is not a tag). */
function withoutTag(pattern: string): string {
  const slash = pattern.lastIndexOf('/')
  const colon = pattern.indexOf(':', slash + 1)
  return colon < 0 ? pattern : pattern.slice(0, colon)
}
