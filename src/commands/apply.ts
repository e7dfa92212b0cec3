import {Flags, type Interfaces} from '@oclif/core'
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
import {loadConfig, selectProfile, type Profile, type SafeDeployConfig} from '../cli/config.js'
import {resolveSettings} from '../cli/options.js'
import {askConfirmation} from '../cli/prompt.js'
import {actor, auditSink, clusterTargets, enforcementCheck, kubeApplier, preflightSetup, readGcloudDefaults, reportPorts, withContext} from '../cli/wiring.js'
import {applyToClusters, type MultiApplyResult} from '../app/multi-apply.js'
import {clusterContexts} from '../core/multi-cluster.js'
import {renderMultiApplyResult} from '../render/multi-cluster.js'
import {writeReports} from '../app/reports.js'
import {applyManifests, type ApplyResult} from '../app/deploy.js'
import {EXIT} from '../core/errors.js'
import type {PreflightResult} from '../core/preflight.js'
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
    'safe-deploy apply -f k8s/ --context gke_my-prod_us-central1_prod --policy policy.yaml --attestors attestors/ --attestations attestations/',
    'safe-deploy apply -f k8s/ --project my-prod --dry-run=server --yes',
    'safe-deploy apply -f k8s/ --project my-prod --break-glass "INC-1234: restore checkout" --yes',
    'safe-deploy apply -f k8s/ --project my-prod --yes -- --timeout=60s',
    'safe-deploy apply -f k8s/ --context gke_my-prod_us-east1_web --context gke_my-prod_europe-west1_web --wave-size 1 --policy policy.yaml --yes',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override jsonKind = 'ApplyResult'
  static override flags = {
    ...inputFlags,
    ...allowUnexaminedFlags,
    ...targetFlags,
    // Repeatable here (and only here): several contexts make one plan across many clusters (README "Many clusters").
    context: Flags.string({
      description: 'kubeconfig context (default: current context); repeat it to apply one plan to several clusters, in waves',
      helpGroup: 'TARGET',
      multiple: true,
      multipleNonGreedy: true,
    }),
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
    'wave-size': Flags.integer({
      min: 1,
      default: 1,
      description: 'with several contexts: how many clusters each wave deploys to at once (in the order given; the first failed wave is the last)',
      helpGroup: 'APPLY',
    }),
    parallel: Flags.integer({min: 1, default: 4, description: 'with several contexts: how many per-cluster pre-flights run at once', helpGroup: 'APPLY'}),
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

  async run(): Promise<Omit<ApplyResult, 'verdict'> | MultiApplyResult> {
    const {flags, argv} = await this.parse(Apply)
    const sep = this.argv.indexOf('--')
    const extra = sep >= 0 ? this.argv.slice(sep + 1) : []
    const stray = (argv as string[]).filter((a) => !extra.includes(a))
    if (stray.length > 0) this.error(`unexpected argument(s): ${stray.join(' ')} (kubectl arguments go after --)`, {exit: 2})
    const cfg = loadConfig(flags.config)
    const profile = selectProfile(cfg, flags.profile)
    const contexts = clusterContexts(flags.context, profile)
    if (contexts.length > 1) return this.applyToMany(flags, extra, cfg.imageRules, profile, contexts)
    const settings = resolveSettings({...flags, context: flags.context?.[0]}, profile, readGcloudDefaults())
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
        report: this.reportWriter(settings, flags['report-codequality']),
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

  /** The pre-flight's report files (--report-md, --report-junit, --report-codequality, the GitHub step summary), one way for one or many clusters. */
  private reportWriter(settings: {reportMd?: string | undefined; reportJunit?: string | undefined}, codequality: string | undefined) {
    return async (r: PreflightResult): Promise<void> => {
      const to = {
        markdown: settings.reportMd,
        junit: settings.reportJunit,
        codequality,
        stepSummary: process.env.GITHUB_STEP_SUMMARY,
        workspace: workspacePaths().workspace,
      }
      for (const written of await writeReports(r, to, reportPorts)) this.say(`report written: ${written}`)
    }
  }

  /** One plan across several clusters (app/multi-apply.ts): one pin and one gathering of facts, a pre-flight per cluster, waves. */
  private async applyToMany(
    flags: Interfaces.InferredFlags<typeof Apply.flags & typeof BaseCommand.baseFlags>,
    extra: string[],
    rules: SafeDeployConfig['imageRules'],
    profile: Profile | undefined,
    contexts: string[],
  ): Promise<MultiApplyResult> {
    const settings = resolveSettings({...flags, context: contexts[0]}, profile, readGcloudDefaults())
    const clusters = clusterTargets(settings, contexts, flags['istio-identity'], this.debugLog)
    const breakGlass = flags['break-glass']
    const mode = flags['dry-run'] as 'none' | 'client' | 'server'
    const audit = auditSink(settings.auditLog)
    const preflight = preflightSetup(flags, settings, rules, this.debugLog, {breakGlass: breakGlass !== undefined})
    const output = this.output()
    const terminal = processTerminal(flags['no-color'])
    const progress = terminalProgress(terminal.progress && !this.jsonEnabled())
    const applier = kubeApplier
    const result = await applyToClusters(
      {
        preflight: preflight.options,
        clusters,
        parallel: flags.parallel,
        waveSize: flags['wave-size'],
        mode,
        breakGlass,
        requireEnforcement: settings.requireEnforcement,
        applier: settings.kube.applier,
        extraArgs: extra,
        ...(flags.prune && flags.selector ? {prune: {selector: flags.selector}} : {}),
        text: {color: terminal.colorStderr, wide: output === 'wide'},
        audit: {actor: actor(), target: {platform: settings.target}},
      },
      {
        preflight: {...preflight.ports, progress},
        progress,
        audit,
        auditId: audit.id,
        say: (m) => this.say(m),
        confirm: (question) => askConfirmation(question, flags.yes),
        report: this.reportWriter(settings, flags['report-codequality']),
        cluster: (context) => {
          const one = withContext(settings, context)
          return {
            enforcement: enforcementCheck(one, flags, this.debugLog),
            apply: applier(one.kube, mode, {serverSide: flags['server-side'], fieldManager: flags['field-manager']}),
          }
        },
      },
    )
    this.say(renderMultiApplyResult(result, {color: terminal.colorStderr, wide: output === 'wide'}))
    if (ciFormat(flags['ci-format']) === 'github') {
      const results = result.clusters.flatMap((c) => (c.preflight ? [c.preflight] : []))
      const first = results[0]
      writeGithub({
        problems: results.flatMap((r) => preflightProblems(r)),
        outputs: {...(first ? preflightOutputs(first, settings.reportMd ?? settings.reportJunit) : {}), outcome: result.outcome},
      })
    }
    if (output === 'name') this.out(applyNames({objects: result.clusters.flatMap((c) => c.objects)}))
    this.setExit(result.outcome === 'blocked' ? EXIT.DENIED : result.outcome === 'failed' ? EXIT.DEPLOY_FAILED : EXIT.OK)
    return result
  }
}
