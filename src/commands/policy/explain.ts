import {Args, Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {platformPolicyPorts, policyExplainPorts} from '../../cli/wiring-trust.js'
import {platformPolicyExplain, policyExplain} from '../../app/policy.js'
import type {PlatformExplanation} from '../../core/platform-policy/explain.js'
import type {RuleExplanation} from '../../core/policy/evaluate.js'
import {renderExplain, renderPlatformExplain} from '../../render/text.js'
import {apiTimeoutFlag, deprecatedTargetPlatformFlag, outputFlag, platformPolicyFlag} from '../../cli/flags.js'

export default class PolicyExplain extends BaseCommand {
  static override summary = 'Explain which rule applies to a cluster/namespace/service account, and which allowlist patterns and attestors matter'
  static override description = withExitCodes(
    'Answers "what would Binary Authorization check for this workload?" without any image or API call. With --platform-policy FILE, for a ' +
      'GKE platform policy: which check set the namespace / service account selects (no namespace: only the default set, as ' +
      '`gcloud … policy evaluate --image`), and which allowlist exempts --image or which checks apply to it and what each needs.',
  )
  static override examples = [
    'safe-deploy policy explain policy.yaml --cluster us-central1.prod -n payments --service-account api',
    'safe-deploy policy explain policy.yaml --target cloudrun --image us-docker.pkg.dev/p/r/app@sha256:…',
    'safe-deploy policy explain --platform-policy platform-policy.yaml -n payments --service-account api --image us-docker.pkg.dev/p/r/app@sha256:…',
  ]
  static override args = {file: Args.string({description: 'policy file'})}
  static override enableJsonFlag = true
  static override jsonKind = 'PolicyExplanation'
  static override flags = {
    project: Flags.string({description: 'explain the live policy of this project'}),
    'platform-policy': platformPolicyFlag(),
    target: Flags.option({options: ['gke', 'cloudrun'] as const, default: 'gke' as const, description: 'where the policy is used'})(),
    platform: deprecatedTargetPlatformFlag(['gke', 'cloudrun']),
    cluster: Flags.string({description: 'LOCATION.NAME'}),
    namespace: Flags.string({char: 'n'}),
    'service-account': Flags.string({description: 'Kubernetes service account (default: default)'}),
    'istio-identity': Flags.string({description: 'SPIFFE identity'}),
    image: Flags.string({description: 'also show which allowlist patterns match this image'}),
    'system-policy': Flags.string({description: 'exported system policy file instead of the built-in approximate list'}),
    'binauthz-endpoint': Flags.string({description: 'Binary Authorization API base URL (tests, private access)'}),
    'api-timeout': apiTimeoutFlag(),
    'api-insecure': Flags.boolean({hidden: true}),
    // One explanation, no list of objects: the document formats only.
    output: outputFlag(['json', 'yaml']),
  }

  async run(): Promise<(Omit<RuleExplanation, 'kind'> & {ruleKind: RuleExplanation['kind']}) | ({policyType: 'platform'} & PlatformExplanation)> {
    const {args, flags} = await this.parse(PolicyExplain)
    const platformFile = flags['platform-policy']
    if (platformFile !== undefined) {
      const p = await platformPolicyExplain(
        {
          cluster: flags.cluster,
          istioIdentity: flags['istio-identity'],
          namespace: flags.namespace,
          serviceAccount: flags['service-account'],
          image: flags.image,
        },
        platformPolicyPorts({...flags, file: args.file, 'platform-policy': platformFile}),
      )
      this.out(renderPlatformExplain(p))
      return {policyType: 'platform', ...p}
    }
    const r = await policyExplain(
      {
        platform: flags.target,
        cluster: flags.cluster,
        namespace: flags.namespace,
        serviceAccount: flags['service-account'],
        istioIdentity: flags['istio-identity'],
        image: flags.image,
      },
      policyExplainPorts({...flags, file: args.file}),
    )
    this.out(renderExplain(r))
    // `kind` names the --json document (PolicyExplanation): the kind of rule that applies is `ruleKind`.
    const {kind: ruleKind, ...rest} = r
    return {ruleKind, ...rest}
  }
}
