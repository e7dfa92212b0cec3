import {BaseCommand, withExitCodes} from '../cli/base.js'
import {SafeDeployError} from '../core/errors.js'
import {
  bareImageFlags,
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
  unexaminedFlags,
} from '../cli/flags.js'
import {loadConfig, selectProfile} from '../cli/config.js'
import {Flags} from '@oclif/core'
import {parseAtFlag, resolveSettings} from '../cli/options.js'
import {replaySetup} from '../cli/wiring-evidence.js'
import {preflightSetup, readGcloudDefaults, reportPorts} from '../cli/wiring.js'
import {processTerminal, terminalProgress} from '../cli/terminal.js'
import {preflight} from '../app/preflight.js'
import {writeReports} from '../app/reports.js'
import {renderPreflightText} from '../render/preflight.js'
import {preflightNames} from '../render/output.js'
import {exitForPreflight, type PreflightResult} from '../core/preflight.js'
import {preflightProblems} from '../render/problems.js'
import {ciFormat, preflightOutputs, workspacePaths, writeGithub} from '../cli/ci.js'

export default class Preflight extends BaseCommand {
  static override summary = "Predict Binary Authorization's verdict for every image, explain it, report it"
  static override description = withExitCodes(
    'Pins every image (unless --no-resolve), then evaluates the Binary Authorization policy locally: system images and allowlist, which rule ' +
      "applies (cluster, namespace, service account, default), the rule's evaluation and enforcement modes, and for REQUIRE_ATTESTATION whether " +
      'each required attestor has a validly signed attestation for the exact digest. An image that could not be checked is never treated as allowed. ' +
      'An input with image-like values that no image rule examined is never allowed either: they are reported, the rest is evaluated, and the ' +
      'exit status is 3 unless the verdict is DENY (--strict: exit 3 before anything is evaluated).',
  )
  static override examples = [
    'safe-deploy preflight -f k8s/ --policy policy.yaml --attestors attestors/ --attestations attestations/ --cluster us-central1.prod',
    'safe-deploy preflight -f k8s/ --project my-prod --cluster us-central1.prod --report-md preflight.md',
    'safe-deploy preflight --image us-docker.pkg.dev/p/r/app:1.4 --target cloudrun --project my-prod --json',
    'safe-deploy preflight -f k8s/ --profile prod -o yaml',
    'safe-deploy preflight -f k8s/ --evidence evidence.json',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'PreflightResult'
  static override flags = {
    ...inputFlags,
    ...unexaminedFlags,
    ...bareImageFlags,
    ...preflightExtraFlags,
    ...targetFlags,
    ...trustFlags,
    ...platformPolicyFlags,
    ...signatureFlags,
    lock: pinFlags.lock,
    'strip-tag': pinFlags['strip-tag'],
    ...registryFlags,
    ...outputFlags,
    ...ciFlags,
    evidence: Flags.string({
      description:
        'replay the facts of this evidence file (`evidence collect`): no network access at all; a fact it lacks is "could not check" (exit 4). Policies: --policy/--platform-policy files, else those stored in the file',
      helpGroup: 'POLICY',
    }),
  }

  async run(): Promise<PreflightResult> {
    const {flags} = await this.parse(Preflight)
    const cfg = loadConfig(flags.config)
    const profile = selectProfile(cfg, flags.profile)
    const evidence = flags.evidence
    // With --evidence the platform policy may be the one stored in the file: --at and the mode are read here, not refused.
    const settings = resolveSettings(
      evidence === undefined ? flags : {...flags, at: undefined, 'platform-policy-mode': undefined},
      profile,
      readGcloudDefaults(),
    )
    const {options, ports} =
      evidence === undefined
        ? preflightSetup(flags, settings, cfg.imageRules, this.debugLog)
        : replaySetup({...flags, evidence}, settings, cfg.imageRules, this.debugLog, {
            mode: replayMode(flags['platform-policy-mode'] ?? settings.platformPolicy?.mode ?? profile?.platformPolicyMode),
            at: flags.at === undefined ? undefined : parseAtFlag(flags.at),
          })
    const terminal = processTerminal(flags['no-color'])
    const {result} = await preflight(options, {...ports, progress: terminalProgress(terminal.progress && !this.jsonEnabled())})
    const github = ciFormat(flags['ci-format']) === 'github'
    const reports = await writeReports(
      result,
      {
        markdown: settings.reportMd,
        junit: settings.reportJunit,
        codequality: flags['report-codequality'],
        stepSummary: process.env.GITHUB_STEP_SUMMARY,
        ...workspacePaths(),
      },
      reportPorts,
    )
    if (github) writeGithub({problems: preflightProblems(result), outputs: preflightOutputs(result, settings.reportMd ?? settings.reportJunit)})
    // The report is human text (stderr); the data is --json, --report-md and --report-junit.
    const output = this.output()
    this.say(renderPreflightText(result, {color: terminal.colorStderr, wide: output === 'wide'}))
    for (const r of reports) this.say(`report written: ${r}`)
    if (output === 'name') this.out(preflightNames(result))
    this.setExit(exitForPreflight(result))
    return result
  }
}

function replayMode(mode: string | undefined): 'enforce' | 'monitor' {
  if (mode === undefined || mode === 'enforce' || mode === 'monitor') return mode ?? 'enforce'
  throw new SafeDeployError('USAGE', `--platform-policy-mode expects enforce or monitor, got "${mode}"`)
}
