import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base.js'
import {COMPLETION_KINDS, completionCandidates, type CompletionKind} from '../cli/complete.js'

/** Shell completion's helper (README "Shell completion"): the candidates for --context or --profile, one a line. Hidden from help. */
export default class Complete extends BaseCommand {
  static override hidden = true
  static override summary = 'Print completion candidates: kube contexts or config profiles, one a line'
  static override args = {kind: Args.string({required: true, options: [...COMPLETION_KINDS], description: 'contexts or profiles'})}
  static override flags = {
    kubeconfig: Flags.string({description: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'}),
    config: Flags.string({description: 'safe-deploy config file (default: ./.safe-deploy.yaml when present)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Complete)
    // oclif has checked the kind against its options.
    const names = completionCandidates(args.kind as CompletionKind, {kubeconfig: flags.kubeconfig, config: flags.config})
    if (names.length > 0) this.out(names.join('\n') + '\n')
  }
}
