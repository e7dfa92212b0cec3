import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {ciFlags, inputFlags, outputFlags, pinFlags, registryFlags, unexaminedFlags} from '../cli/flags.js'
import {loadConfig} from '../cli/config.js'
import {manifestInputs, registrySettings} from '../cli/options.js'
import {digestResolver, inputReader, writeFiles} from '../cli/wiring.js'
import {processTerminal, terminalProgress} from '../cli/terminal.js'
import {pin, type PinJson} from '../app/pin.js'
import {joinYamlStreams, renderPinSummary} from '../render/pin.js'
import {pinNames, renderPinWide} from '../render/output.js'
import {pinProblems} from '../render/problems.js'
import {ciFormat, digestsJson, writeGithub} from '../cli/ci.js'

export type {PinJson, PinSiteJson} from '../app/pin.js'

export default class Pin extends BaseCommand {
  static override summary = 'Rewrite every image reference from tag to digest'
  static override description = withExitCodes(
    'Resolves every image reference in Kubernetes manifests, Knative/Cloud Run service YAML and kustomize output to the digest it points to now, ' +
      'and rewrites only the image values (comments, quoting and layout are kept). Pinned YAML goes to stdout, or back to the files with --write ' +
      '(atomic: if any image fails, no file is written). Progress and the summary go to stderr. An `image:` value in a kind that no image rule ' +
      'covers is left as written and reported as a warning with the imageRules entry that would cover it (an error with --strict).',
  )
  static override examples = [
    'helm template ./chart | safe-deploy pin -f - | kubectl apply -f -',
    'safe-deploy pin -f k8s/ -R --write --lock-output images.lock.yaml',
    'safe-deploy pin -f k8s/ --lock images.lock.yaml      # replay, no registry calls',
    'safe-deploy pin -f deploy.yaml --platform linux/arm64 --strip-tag',
    'safe-deploy pin -f k8s/ -o name      # the pinned references, one per line',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'PinResult'
  static override flags = {
    ...inputFlags,
    ...unexaminedFlags,
    ...pinFlags,
    ...registryFlags,
    ...outputFlags,
    ...ciFlags,
    // kustomize output has no file to rewrite; stdin is refused by the use case.
    write: Flags.boolean({char: 'w', description: 'rewrite the input files in place (atomic, all or nothing)', exclusive: ['kustomize']}),
    // The lock file already records the platform each digest was resolved for.
    platform: Flags.string({
      description: 'pin the child manifest of a multi-arch index for os/arch[/variant] (default: the index digest)',
      exclusive: ['lock'],
    }),
  }

  async run(): Promise<PinJson> {
    const {flags} = await this.parse(Pin)
    const cfg = loadConfig(flags.config)
    const outcome = await pin(
      {
        inputs: manifestInputs(flags),
        rules: cfg.imageRules,
        stripTag: flags['strip-tag'],
        write: flags.write,
        lockOutput: flags['lock-output'],
        replayingLock: flags.lock !== undefined,
        strict: flags.strict,
      },
      {
        reader: inputReader,
        writeFiles,
        resolver: digestResolver({lock: flags.lock, registry: registrySettings(flags), platform: flags.platform, debug: this.debugLog}),
        progress: terminalProgress(processTerminal(flags['no-color']).progress && !this.jsonEnabled()),
      },
    )
    const output = this.output()
    for (const w of outcome.warnings) this.say(`warning: ${w}`)
    if (output === 'wide') this.say(renderPinWide(outcome))
    this.say(renderPinSummary(outcome.summary, {seconds: outcome.seconds, written: outcome.written.length, lockOutput: outcome.lockOutput}))
    // -o name replaces the pinned YAML on stdout (and also lists what --write pinned).
    if (output === 'name') this.out(pinNames(outcome))
    else if (!flags.write) this.out(joinYamlStreams(outcome.run.outputs.map((o) => o.text)))
    const {sites, summary, warnings, unexamined, written} = outcome
    if (ciFormat(flags['ci-format']) === 'github')
      writeGithub({
        problems: pinProblems(outcome),
        outputs: {digests: digestsJson(sites.map((s) => ({original: s.original, digest: s.digest}))), 'pinned-count': String(summary.pinned)},
        summary: true,
        heading: 'safe-deploy pin',
      })
    return {sites, summary, warnings, unexamined, written}
  }
}
