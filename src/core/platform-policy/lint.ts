/**
 * `safe-deploy policy lint` for GKE platform policies, docs/platform-policy.md#lint: the strict parser's problems
 * (named by code where a mistake is common: unselectable check sets, the list-for-message shapes of Google's
 * published examples that crash gcloud, `alwaysDeny: false`) plus warnings for valid policies that do not do
 * what their authors likely meant (OR vs AND, empty check sets, registry-wide exemptions, ...).
 * Same finding shape as src/core/policy/lint.ts.
 */
import {SafeDeployError} from '../errors.js'
import {problemText} from '../policy/parse.js'
import type {Finding, LintResult} from '../policy/lint.js'
import {parsePlatformPolicyText, UNREACHABLE} from './parse.js'
import type {Check, PlatformPolicy} from './types.js'

export type {Finding} from '../policy/lint.js'

export interface PlatformLintResult extends Omit<LintResult, 'policy'> {
  policy?: PlatformPolicy
}

/** A code for a parse problem that is a known, common mistake; E_POLICY_INVALID otherwise. */
function problemCode(message: string): {code: string; fix?: string} {
  if (message.includes(UNREACHABLE)) {
    return {
      code: 'E_CHECK_SET_UNREACHABLE',
      fix: 'order check sets service-account scopes first, then namespace scopes, then the one unscoped default set last; one set per scope',
    }
  }
  if (message.includes("'list' object has no attribute 'items'")) {
    return {
      code: 'E_LIST_FOR_MESSAGE',
      fix: 'write the field as a mapping, not a list: `imageAllowlist: {allowPattern: [PATTERN]}`, `attestationSource: {containerAnalysisAttestationProjects: [projects/ID]}`',
    }
  }
  if (message.includes("alwaysDeny can't be set to false")) return {code: 'E_ALWAYS_DENY_FALSE', fix: 'remove the check instead of setting alwaysDeny: false'}
  if (message.includes('alone is not a valid pattern')) {
    return {code: 'E_BARE_WILDCARD', fix: 'name the registry and path before the wildcard, e.g. us-docker.pkg.dev/my-project/exempt/**'}
  }
  if (message.includes('exactly one check kind per check')) {
    return {code: 'E_SEVERAL_KINDS_IN_CHECK', fix: 'split it into one check per kind: the checks of a set are ANDed'}
  }
  return {code: 'E_POLICY_INVALID'}
}

function checkLabel(setIndex: number, j: number, c: Check): string {
  return `checkSets[${setIndex}].checks[${j}]${c.displayName ? ` ("${c.displayName}")` : ''}`
}

export function lintPlatformPolicy(input: {text: string; file: string}): PlatformLintResult {
  const findings: Finding[] = []
  let policy: PlatformPolicy
  try {
    policy = parsePlatformPolicyText(input.text, input.file)
  } catch (err) {
    if (!(err instanceof SafeDeployError)) throw err
    for (const e of err.errors.length > 0 ? err.errors : [err]) {
      const {code, fix} = problemCode(e.message)
      findings.push({
        code,
        severity: 'error',
        line: e.location?.line ?? 0,
        message: problemText(e),
        fix: fix ?? e.hint ?? 'fix the field as described; `gcloud beta container binauthz policy create` would reject it too',
      })
    }
    return summarize(input.file, findings, [])
  }
  const gke = policy.gkePolicy
  const add = (code: string, severity: 'error' | 'warning', line: number | undefined, message: string, fix: string) =>
    findings.push({code, severity, line: line ?? 0, message, fix})

  if (gke.checkSets.length === 0) {
    add(
      'W_NO_CHECK_SETS',
      'warning',
      1,
      'the policy has no check sets: every image is allowed and CV writes no log entries',
      'add a default (unscoped) check set last, e.g. with a trustedDirectoryCheck',
    )
  }

  // Policy-level and set-level allowlists: registry-wide exemptions.
  const broad = (patterns: ReadonlyArray<{pattern: string; line?: number}>, where: string) => {
    for (const p of patterns) {
      const slash = p.pattern.indexOf('/')
      if (slash > 0 && p.pattern.slice(slash) === '/**') {
        add(
          'W_BROAD_ALLOWLIST',
          'warning',
          p.line,
          `${where} allow pattern "${p.pattern}" exempts every image of the registry ${p.pattern.slice(0, slash)}`,
          `narrow it to a project or repository, e.g. "${p.pattern.slice(0, slash)}/PROJECT/REPOSITORY/**"`,
        )
      }
    }
  }
  broad(gke.imageAllowlist?.allowPattern ?? [], 'policy-level')

  let sawNamespace: number | undefined
  gke.checkSets.forEach((set, i) => {
    const label = `checkSets[${i}]${set.displayName ? ` ("${set.displayName}")` : ''}`
    broad(set.imageAllowlist?.allowPattern ?? [], `${label}`)
    if (set.scope?.kind === 'namespace') sawNamespace ??= i
    if (set.scope?.kind === 'serviceAccount' && sawNamespace !== undefined) {
      // The docs' broader ordering rule (docs/platform-policy.md#policy-files item 1): the proto rule (same namespace) is a parse error.
      add(
        'W_CHECK_SET_ORDER',
        'warning',
        set.line,
        `${label} is scoped to service account ${set.scope.value} but comes after the namespace-scoped checkSets[${sawNamespace}]; the docs say service-account sets must be listed first`,
        'move every service-account-scoped check set before the namespace-scoped ones',
      )
    }
    if (set.checks.length === 0) {
      add(
        'W_EMPTY_CHECK_SET',
        'warning',
        set.line,
        `${label} has no checks: every image of the Pods it selects is allowed ("always allow")`,
        'add the checks this scope needs, or `- alwaysDeny: true` to deny explicitly',
      )
    }
    set.checks.forEach((c, j) => {
      const cl = checkLabel(i, j, c)
      if (c.imageAllowlist) broad(c.imageAllowlist.allowPattern, cl)
      switch (c.kind) {
        case 'simpleSigningAttestationCheck': {
          const keys = c.attestationAuthenticators.reduce((n, a) => n + a.pkixPublicKeys.length, 0)
          if (c.attestationAuthenticators.length > 1) {
            add(
              'W_OR_NOT_AND',
              'warning',
              c.line,
              `${cl} has ${c.attestationAuthenticators.length} authenticators: an attestation from ANY key of ANY authenticator satisfies it (unlike a classic policy's attestors, which are ANDed)`,
              'to require several signers, write one simpleSigningAttestationCheck per signer (checks are ANDed); keep several authenticators only for key rotation',
            )
          } else if (keys > 1) {
            add(
              'W_OR_NOT_AND',
              'warning',
              c.line,
              `${cl} has ${keys} keys: a signature by ANY one of them satisfies it`,
              'if each key is a different signer that must approve, write one check per key',
            )
          }
          if (c.containerAnalysisAttestationProjects.length === 0) {
            add(
              'E_ATTESTATION_NO_PROJECTS',
              'error',
              c.line,
              `${cl} lists no containerAnalysisAttestationProjects: "You must explicitly specify one or more projects" where attestations are stored`,
              'add containerAnalysisAttestationProjects: [projects/PROJECT_ID] (the project holding the attestation occurrences)',
            )
          }
          break
        }
        case 'sigstoreSignatureCheck': {
          const keys = c.sigstoreAuthorities.reduce((n, a) => n + a.publicKeys.length, 0)
          if (c.sigstoreAuthorities.length > 1 || keys > 1) {
            add(
              'W_OR_NOT_AND',
              'warning',
              c.line,
              `${cl} has ${c.sigstoreAuthorities.length} authorit${c.sigstoreAuthorities.length === 1 ? 'y' : 'ies'} and ${keys} keys: a signature verified by ANY one key satisfies it`,
              'to require several signers, write one sigstoreSignatureCheck per signer (checks are ANDed)',
            )
          }
          break
        }
        case 'slsaCheck':
          if (c.rules.length === 0) {
            add(
              'W_SLSA_NO_RULES',
              'warning',
              c.line,
              `${cl} has no rules: no image can satisfy it`,
              'add a rule with trustedBuilder: GOOGLE_CLOUD_BUILD and attestationSource',
            )
          }
          c.rules.forEach((r, k) => {
            if (r.attestationProjects.length === 0) {
              add(
                'W_SLSA_NO_PROJECTS',
                'warning',
                r.line ?? c.line,
                `${cl} rule ${k} has no attestationSource projects: it can never be satisfied`,
                'add attestationSource: {containerAnalysisAttestationProjects: [projects/PROJECT_ID]}',
              )
            }
            if (r.customConstraints !== undefined) {
              add(
                'W_SLSA_CUSTOM_CONSTRAINTS',
                'warning',
                r.line ?? c.line,
                `${cl} rule ${k} has customConstraints: their CEL variables are undocumented, so safe-deploy reports the rule as ERROR (could not check)`,
                'rely on trustedSourceRepoPatterns and configBasedBuildRequired where possible',
              )
            }
            if (!r.configBasedBuildRequired && r.trustedSourceRepoPatterns.length > 0) {
              add(
                'W_SLSA_PATTERNS_WITHOUT_CONFIG',
                'warning',
                r.line ?? c.line,
                `${cl} rule ${k} has trustedSourceRepoPatterns without configBasedBuildRequired: what Google matches them against is undocumented (safe-deploy requires every source repository to match)`,
                'set configBasedBuildRequired: true so the patterns name the repository of the build config',
              )
            }
          })
          break
        case 'vulnerabilityCheck':
          if (c.containerAnalysisVulnerabilityProjects.length === 0) {
            add(
              'W_VULN_NO_PROJECTS',
              'warning',
              c.line,
              `${cl} lists no containerAnalysisVulnerabilityProjects: where Google looks for scan results is undocumented (safe-deploy uses the image's own project)`,
              'add containerAnalysisVulnerabilityProjects: [projects/PROJECT_ID] (the project where Artifact Analysis scans the images)',
            )
          }
          break
        default:
          break
      }
    })
  })
  findings.sort((a, b) => a.line - b.line || a.code.localeCompare(b.code))
  return {...summarize(input.file, findings, [...policy.notes]), policy}
}

function summarize(file: string, findings: Finding[], notes: string[]): PlatformLintResult {
  return {
    file,
    findings,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    notes,
  }
}
