import {Args, Flags} from '@oclif/core'
import {withExitCodes} from '../../cli/base.js'
import {RunCommand} from '../../cli/run-command.js'
import {imagePlatformFlags, registryFlags, inputFlags, outputFlags, signatureFlags, trustFlags} from '../../cli/flags.js'
import {loadConfig, selectProfile} from '../../cli/config.js'
import {runSetup} from '../../cli/wiring.js'
import {runDeploy, type RunResult} from '../../app/run.js'
import {EXIT} from '../../core/errors.js'

const {'system-policy': _systemPolicy, ...withoutSystemPolicy} = trustFlags

export const runFlags = {
  region: Flags.string({description: 'Cloud Run region, e.g. europe-west2', helpGroup: 'CLOUD RUN'}),
  'break-glass': Flags.string({
    description: 'deploy despite the policy, with this justification (sent as breakglassJustification, logged)',
    helpGroup: 'CLOUD RUN',
  }),
  yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation', helpGroup: 'CLOUD RUN'}),
  'dry-run': Flags.boolean({description: 'pre-flight, then send the request with validateOnly (nothing deployed)', helpGroup: 'CLOUD RUN'}),
  'audit-log': Flags.string({description: 'audit log file (default: $XDG_STATE_HOME/safe-deploy/audit.jsonl)', helpGroup: 'CLOUD RUN'}),
  'run-endpoint': Flags.string({description: 'Cloud Run API host:port (tests, private access)', helpGroup: 'CLOUD RUN'}),
  config: inputFlags.config,
  profile: inputFlags.profile,
  // The system policy applies to GKE only: Cloud Run never reads it.
  ...withoutSystemPolicy,
  ...signatureFlags,
  // --project is also the Cloud Run target here, so a policy file must be allowed alongside it.
  policy: Flags.string({description: 'policy file (what `gcloud container binauthz policy export` writes); default: read from --project', helpGroup: 'POLICY'}),
  ...registryFlags,
  ...outputFlags,
}

export default class RunDeploy extends RunCommand {
  static override summary = 'Deploy one image to Cloud Run, pinned and pre-flighted, with Binary Authorization on'
  static override description = withExitCodes(
    'Pins the image, pre-flights it with the Cloud Run rules (default rule only), then creates or updates the service through the Cloud Run ' +
      'Admin API v2 with the digest image and binaryAuthorization.useDefault = true, waits for the operation and reports the revision.',
  )
  static override examples = ['safe-deploy run deploy my-service --image us-docker.pkg.dev/p/r/app:1.4 --region europe-west2 --project my-prod']
  static override args = {service: Args.string({required: true, description: 'Cloud Run service name'})}
  static override enableJsonFlag = true
  static override jsonKind = 'RunResult'
  static override flags = {
    image: Flags.string({required: true, multiple: true, description: 'image to deploy (pinned to its digest first)'}),
    'service-account': Flags.string({description: 'runtime service account email'}),
    ...imagePlatformFlags(undefined, 'pin the child manifest of a multi-arch index for os/arch[/variant] (Cloud Run evaluates the platform digest)'),
    lock: Flags.string({description: 'replay the digest from this lock file'}),
    ...runFlags,
  }

  async run(): Promise<Omit<RunResult, 'verdict'>> {
    const {args, flags} = await this.parse(RunDeploy)
    const cfg = loadConfig(flags.config)
    const {options, ports} = runSetup(flags, selectProfile(cfg, flags.profile), this.runIo(flags['no-color']))
    const r = await runDeploy(args.service, options, ports)
    this.showRunResult(r, flags['no-color'])
    this.setExit(r.outcome === 'blocked' ? EXIT.DENIED : EXIT.OK)
    // The verdict is the pre-flight's: said once, as preflight.verdict.
    const {verdict: _verdict, ...json} = r
    return json
  }
}
