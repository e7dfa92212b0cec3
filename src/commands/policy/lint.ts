import {Args, Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {platformPolicyPorts, policyLintPorts} from '../../cli/wiring-trust.js'
import {platformPolicyLint, policyLint} from '../../app/policy.js'
import type {LintResult} from '../../core/policy/lint.js'
import {EXIT} from '../../core/errors.js'
import {renderLint} from '../../render/text.js'
import {apiTimeoutFlag, ciFlags, deprecatedTargetPlatformFlag, platformPolicyFlag} from '../../cli/flags.js'
import {lintProblems} from '../../render/problems.js'
import {ciFormat, writeGithub} from '../../cli/ci.js'

export default class PolicyLint extends BaseCommand {
  static override summary = 'Check a Binary Authorization policy for errors and for the classic adoption mistakes'
  static override description = withExitCodes(
    'Structural errors (what `gcloud container binauthz policy import` rejects) plus warnings: permissive rules on production-like clusters or ' +
      'namespaces, enforcement before any dry-run decision in the audit log, clusters named alike with different rules, broad or shadowed ' +
      'allowlist patterns, tag patterns that never match on Cloud Run, attestors with no keys, globalPolicyEvaluationMode missing. ' +
      'With --platform-policy FILE, a GKE check-based platform policy instead: unselectable check sets, the list-for-mapping shapes gcloud ' +
      'crashes on, alwaysDeny false, bare wildcards, several authenticators in one check (any one suffices), checks that cannot pass. ' +
      'Exit 7 on errors (and on warnings with --strict), else 0.',
  )
  static override examples = [
    'safe-deploy policy lint policy.yaml',
    'safe-deploy policy lint --project my-prod --json',
    'safe-deploy policy lint policy.yaml --attestors attestors/ --strict',
    'safe-deploy policy lint --platform-policy platform-policy.yaml',
  ]
  static override args = {file: Args.string({description: 'policy file (YAML or JSON, as `gcloud container binauthz policy export` writes)'})}
  static override enableJsonFlag = true
  static override jsonKind = 'LintResult'
  static override flags = {
    project: Flags.string({description: 'lint the live policy of this project (Binary Authorization API)'}),
    'platform-policy': platformPolicyFlag(),
    attestors: Flags.string({description: 'directory of attestor JSON files, to check that required attestors exist and have keys'}),
    'audit-log': Flags.string({description: 'audit log to look for dry-run decisions (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl)'}),
    strict: Flags.boolean({description: 'exit non-zero on warnings too'}),
    target: Flags.string({
      options: ['gke', 'cloudrun'],
      description: 'where the policy is used: findings that only matter on the other target are not raised [default: both]',
    }),
    platform: deprecatedTargetPlatformFlag(['gke', 'cloudrun']),
    'binauthz-endpoint': Flags.string({description: 'Binary Authorization API base URL (tests, private access)'}),
    'api-timeout': apiTimeoutFlag(),
    'api-insecure': Flags.boolean({hidden: true}),
    ...ciFlags,
  }

  async run(): Promise<Omit<LintResult, 'policy'> & {policyType?: 'platform'}> {
    const {args, flags} = await this.parse(PolicyLint)
    const platformFile = flags['platform-policy']
    if (platformFile !== undefined) {
      const p = await platformPolicyLint(platformPolicyPorts({...flags, file: args.file, 'platform-policy': platformFile}))
      this.out(renderLint(p))
      this.setExit(p.errors > 0 || (flags.strict && p.warnings > 0) ? EXIT.INVALID_TRUST : EXIT.OK)
      const {policy: _pp, ...rest} = p
      // policyType tells a reader of the --json document which findings table (docs/platform-policy.md#lint) applies.
      return {policyType: 'platform', ...rest}
    }
    const r = await policyLint(
      {requireAuditLog: flags['audit-log'] !== undefined, platform: flags.target as 'gke' | 'cloudrun' | undefined},
      policyLintPorts({...flags, file: args.file}),
    )
    this.out(renderLint(r))
    if (ciFormat(flags['ci-format']) === 'github')
      writeGithub({
        problems: lintProblems(r),
        outputs: {errors: String(r.errors), warnings: String(r.warnings)},
        summary: true,
        heading: `safe-deploy policy lint ${r.file}`,
      })
    this.setExit(r.errors > 0 || (flags.strict && r.warnings > 0) ? EXIT.INVALID_TRUST : EXIT.OK)
    const {policy: _p, ...out} = r
    return out
  }
}
