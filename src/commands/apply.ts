import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {
  allowUnexaminedFlags,
  ciFlags,
  inputFlags,
  outputFlags,
  pinFlags,
  preflightExtraFlags,
  registryFlags,
  platformPolicyFlags,
  signatureFlags,
  targetFlags,
  trustFlags,
} from '../cli/flags.js'
import {loadConfig, selectProfile} from '../cli/config.js'
import {resolveSettings} from '../cli/options.js'
import {askConfirmation} from '../cli/prompt.js'
import {actor, auditSink, enforcementCheck, kubeApplier, preflightSetup, readGcloudDefaults, reportPorts} from '../cli/wiring.js'
import {writeReports} from '../app/reports.js'
import {applyManifests, type ApplyResult} from '../app/deploy.js'
import {EXIT} from '../core/errors.js'
import {renderApplyResult} from '../render/text.js'
import {applyNames} from '../render/output.js'
import {processTerminal, terminalProgress} from '../cli/terminal.js'
import {ciFormat, preflightOutputs, workspacePaths, writeGithub} from '../cli/ci.js'
import {preflightProblems} from '../render/problems.js'

export default class Apply extends BaseCommand {
  static override summary = 'Pin, pre-flight, confirm, apply to Kubernetes/GKE, and record the decision'
  static override description = withExitCodes(
    'Nothing reaches the cluster unless every image is pinned and the pre-flight verdict allows it. A dry-run denial deploys and is reported ' +
      'loudly; --break-glass deploys with the break-glass annotation and the justification in the audit log. On a TTY the plan is shown and ' +
      'confirmed; with CI set or without a TTY, --yes is required. Extra kubectl arguments go after --. An image-like value that no image rule ' +
      'examined (an `image:` in a kind without rules) stops the deploy (exit 3) unless --allow-unexamined-images is given.',
  )
  static override examples = [
    '<%= config.bin %> apply -f k8s/ --context gke_my-prod_us-central1_prod --policy policy.yaml --attestors attestors/ --attestations attestations/',
    '<%= config.bin %> apply -f k8s/ --project my-prod --dry-run=server --yes',
    '<%= config.bin %> apply -f k8s/ --project my-prod --break-glass "INC-1234: restore checkout" --yes',
    '<%= config.bin %> apply -f k8s/ --project my-prod --yes -- --timeout=60s',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override jsonKind = 'ApplyResult'
  static override flags = {
    ...inputFlags,
    ...allowUnexaminedFlags,
    ...targetFlags,
    ...trustFlags,
    ...platformPolicyFlags,
    ...signatureFlags,
    ...preflightExtraFlags,
    lock: pinFlags.lock,
    'strip-tag': pinFlags['strip-tag'],
    'dry-run': Flags.string({options: ['none', 'client', 'server'], default: 'none', description: 'kubectl dry-run mode', helpGroup: 'APPLY'}),
    'server-side': Flags.boolean({description: 'server-side apply', helpGroup: 'APPLY'}),
    'field-manager': Flags.string({
      description: "field manager for server-side apply (default: kubectl's, or safe-deploy for the api applier)",
      helpGroup: 'APPLY',
    }),
    // Pruning without a selector can delete unrelated objects.
    prune: Flags.boolean({description: 'prune objects not in the input (requires -l)', dependsOn: ['selector'], helpGroup: 'APPLY'}),
    selector: Flags.string({char: 'l', description: 'label selector (with --prune)', helpGroup: 'APPLY'}),
    applier: Flags.string({
      options: ['kubectl', 'api'],
      description: 'kubectl (default when on PATH) or api (server-side apply through the Kubernetes API)',
      helpGroup: 'APPLY',
    }),
    'break-glass': Flags.string({description: 'deploy despite the policy, with this justification (annotated and logged)', helpGroup: 'APPLY'}),
    yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation', helpGroup: 'APPLY'}),
    'require-enforcement': Flags.boolean({
      description:
        'fail unless the target GKE cluster enforces Binary Authorization (the cluster is named by a gke_PROJECT_LOCATION_NAME context, or --cluster with --project)',
      helpGroup: 'APPLY',
    }),
    'container-endpoint': Flags.string({description: 'GKE API host:port (tests, private access)', helpGroup: 'APPLY'}),
    'audit-log': Flags.string({description: 'audit log file (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl)', helpGroup: 'APPLY'}),
    ...registryFlags,
    ...outputFlags,
    ...ciFlags,
  }

  async run(): Promise<Omit<ApplyResult, 'verdict'>> {
    const {flags, argv} = await this.parse(Apply)
    const sep = this.argv.indexOf('--')
    const extra = sep >= 0 ? this.argv.slice(sep + 1) : []
    const stray = (argv as string[]).filter((a) => !extra.includes(a))
    if (stray.length > 0) this.error(`unexpected argument(s): ${stray.join(' ')} (kubectl arguments go after --)`, {exit: 2})
    const cfg = loadConfig(flags.config)
    const settings = resolveSettings(flags, selectProfile(cfg, flags.profile), readGcloudDefaults())
    const breakGlass = flags['break-glass']
    const mode = flags['dry-run'] as 'none' | 'client' | 'server'
    const audit = auditSink(settings.auditLog)
    const preflight = preflightSetup(flags, settings, cfg.imageRules, this.debugLog, {breakGlass: breakGlass !== undefined})
    const output = this.output()
    const terminal = processTerminal(flags['no-color'])
    // One Progress for the whole command: pre-flight steps, then sending the objects.
    const progress = terminalProgress(terminal.progress && !this.jsonEnabled())
    const result = await applyManifests(
      {
        preflight: preflight.options,
        mode,
        breakGlass,
        requireEnforcement: settings.requireEnforcement,
        applier: settings.kube.applier,
        extraArgs: extra,
        ...(flags.prune && flags.selector ? {prune: {selector: flags.selector}} : {}),
        text: {color: terminal.colorStderr, wide: output === 'wide'},
        audit: {
          actor: actor(),
          target: {
            platform: settings.target,
            ...(settings.kube.context ? {context: settings.kube.context} : {}),
            ...(flags.cluster ? {cluster: flags.cluster} : {}),
          },
        },
      },
      {
        preflight: {...preflight.ports, progress},
        progress,
        audit,
        auditId: audit.id,
        say: (m) => this.say(m),
        confirm: (question) => askConfirmation(question, flags.yes),
        report: async (r) => {
          const to = {
            markdown: settings.reportMd,
            junit: settings.reportJunit,
            codequality: flags['report-codequality'],
            stepSummary: process.env.GITHUB_STEP_SUMMARY,
            workspace: workspacePaths().workspace,
          }
          for (const written of await writeReports(r, to, reportPorts)) this.say(`report written: ${written}`)
        },
        enforcement: enforcementCheck(settings, flags, this.debugLog),
        apply: kubeApplier(settings.kube, mode, {serverSide: flags['server-side'], fieldManager: flags['field-manager']}),
      },
    )
    this.say(renderApplyResult(result, {color: terminal.colorStderr, wide: output === 'wide'}))
    if (ciFormat(flags['ci-format']) === 'github')
      writeGithub({
        problems: preflightProblems(result.preflight),
        outputs: {...preflightOutputs(result.preflight, settings.reportMd ?? settings.reportJunit), outcome: result.outcome},
      })
    if (output === 'name') this.out(applyNames(result))
    this.setExit(result.outcome === 'blocked' ? EXIT.DENIED : EXIT.OK)
    // The verdict is the pre-flight's: said once, as preflight.verdict.
    const {verdict: _verdict, ...json} = result
    return json
  }
}
