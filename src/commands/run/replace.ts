import {Args} from '@oclif/core'
import {withExitCodes} from '../../cli/base.js'
import {RunCommand} from '../../cli/run-command.js'
import {loadConfig, selectProfile} from '../../cli/config.js'
import {runSetup} from '../../cli/wiring.js'
import {runReplace, type RunResult} from '../../app/run.js'
import {runFlags} from './deploy.js'
import {allowUnexaminedFlags} from '../../cli/flags.js'
import {EXIT} from '../../core/errors.js'

export default class RunReplace extends RunCommand {
  static override summary = 'Deploy a Knative Service YAML to Cloud Run, pinned and pre-flighted, with Binary Authorization on'
  static override description = withExitCodes(
    'Pins every image in the Service YAML, sets run.googleapis.com/binary-authorization: default on the Service metadata, pre-flights it with ' +
      'the Cloud Run rules, then translates it to the Cloud Run Admin API v2 and creates or updates the service. Fields it cannot translate are refused by path. ' +
      'An image-like value that no image rule examined stops the deploy (exit 3) unless --allow-unexamined-images is given.',
  )
  static override examples = ['safe-deploy run replace service.yaml --region europe-west2 --project my-prod']
  static override args = {file: Args.string({required: true, description: 'Knative Service YAML (serving.knative.dev/v1)'})}
  static override enableJsonFlag = true
  static override jsonKind = 'RunResult'
  static override flags = {...runFlags, ...allowUnexaminedFlags}

  async run(): Promise<Omit<RunResult, 'verdict'>> {
    const {args, flags} = await this.parse(RunReplace)
    const cfg = loadConfig(flags.config)
    const {options, ports} = runSetup({...flags, filename: [args.file]}, selectProfile(cfg, flags.profile), this.runIo(flags['no-color']))
    const r = await runReplace(args.file, {...options, flagProject: flags.project, flagRegion: flags.region}, ports)
    this.showRunResult(r, flags['no-color'])
    this.setExit(r.outcome === 'blocked' ? EXIT.DENIED : EXIT.OK)
    // The verdict is the pre-flight's: said once, as preflight.verdict.
    const {verdict: _verdict, ...json} = r
    return json
  }
}
