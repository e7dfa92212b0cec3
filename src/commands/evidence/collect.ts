import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {
  bareImageFlags,
  inputFlags,
  pinFlags,
  platformPolicyFlag,
  platformPolicyFlags,
  preflightExtraFlags,
  registryFlags,
  signatureFlags,
  targetFlags,
  trustFlags,
  unexaminedFlags,
} from '../../cli/flags.js'
import {loadConfig, selectProfile} from '../../cli/config.js'
import {resolveSettings} from '../../cli/options.js'
import {readGcloudDefaults, writeFiles} from '../../cli/wiring.js'
import {collectSetup} from '../../cli/wiring-evidence.js'
import {processTerminal, terminalProgress} from '../../cli/terminal.js'
import {collectEvidence} from '../../app/evidence.js'
import {evidenceText} from '../../core/evidence.js'

export default class EvidenceCollect extends BaseCommand {
  static override summary = 'Gather every fact the policies need into one evidence file, to replay the verdict offline'
  static override description = withExitCodes(
    'Runs the pre-flight (the same inputs, policies and flags as `preflight`) and records what it read: the digest of every image, the ' +
      'classic policy and the attestors and attestation occurrences it requires, and for a platform policy the occurrences, upload times and ' +
      'registry signatures its checks read — and nothing else. `preflight --evidence FILE` then evaluates with no network access at all. ' +
      'A lookup that failed is left out of the file (a replay reports it as could not check) and named here. The file is written atomically.',
  )
  static override examples = [
    'safe-deploy evidence collect -f k8s/ --project my-prod --platform-policy platform-policy.yaml -o evidence.json',
    'safe-deploy evidence collect -f k8s/ --policy policy.yaml --project my-prod -o evidence.json',
  ]
  static override flags = {
    ...inputFlags,
    ...unexaminedFlags,
    ...bareImageFlags,
    'no-resolve': preflightExtraFlags['no-resolve'],
    platform: preflightExtraFlags.platform,
    'image-platform': preflightExtraFlags['image-platform'],
    ...targetFlags,
    ...trustFlags,
    'platform-policy': platformPolicyFlag('POLICY'),
    'builder-keys': platformPolicyFlags['builder-keys'],
    'kms-endpoint': platformPolicyFlags['kms-endpoint'],
    ...signatureFlags,
    lock: pinFlags.lock,
    ...registryFlags,
    output: Flags.string({char: 'o', required: true, description: 'the evidence file to write (JSON; - for stdout)', helpGroup: 'OUTPUT'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(EvidenceCollect)
    const cfg = loadConfig(flags.config)
    const settings = resolveSettings(flags, selectProfile(cfg, flags.profile), readGcloudDefaults())
    const {options, ports} = collectSetup(flags, settings, cfg.imageRules, this.debugLog)
    const terminal = processTerminal(flags['no-color'])
    const {document, missing} = await collectEvidence(options, {...ports, progress: terminalProgress(terminal.progress)})
    const text = evidenceText(document)
    if (flags.output === '-') this.out(text)
    else await writeFiles([{path: flags.output, text}])
    const images = Object.keys(document.images).length
    const where = flags.output === '-' ? 'stdout' : flags.output
    this.say(`evidence written to ${where}: ${images} image(s), collected at ${document.collectedAt}`)
    if (missing.length > 0)
      this.say(`${missing.length} fact(s) could not be read and are left out (a replay reports them as could not check):\n  ${missing.join('\n  ')}`)
  }
}
