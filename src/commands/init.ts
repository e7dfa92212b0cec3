import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {runInit, type CiSystem, type InitResult, type Platform} from '../app/init.js'
import {defaultActionRef, initPorts} from '../cli/init.js'
import {canPrompt} from '../cli/prompt.js'
import {deprecatedTargetPlatformFlag} from '../cli/flags.js'

export type {InitResult} from '../app/init.js'

export default class Init extends BaseCommand {
  static override summary = 'Set up safe-deploy: profiles per environment, policies, CI templates'
  static override description = withExitCodes(
    'An interactive wizard (or the same through flags) that writes .safe-deploy.yaml with a profile per environment, a Binary Authorization ' +
      'policy per environment (dev: ALWAYS_ALLOW in dry-run; staging: REQUIRE_ATTESTATION in dry-run; prod: REQUIRE_ATTESTATION enforced with ' +
      'the system policy enabled) and CI templates that attest after the checks pass and pre-flight every change. Existing files are never ' +
      'overwritten without asking (or --force).',
  )
  static override examples = [
    'safe-deploy init',
    'safe-deploy init --yes --target gke --project my-proj --env dev=gke_my-proj_us-central1_dev --env prod=gke_my-proj_us-central1_prod --attestor built-by-ci --ci github',
    'safe-deploy init --yes --target cloudrun --project my-proj --env staging=europe-west2 --env prod=europe-west2 --attestor built-by-ci --ci gitlab',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'InitResult'
  static override flags = {
    target: Flags.string({options: ['gke', 'cloudrun', 'both'], description: 'where you deploy'}),
    platform: deprecatedTargetPlatformFlag(['gke', 'cloudrun', 'both']),
    project: Flags.string({description: 'Google Cloud project id (default for every environment)'}),
    env: Flags.string({multiple: true, description: 'NAME=CONTEXT (gke), NAME=REGION (cloudrun), NAME=CONTEXT,REGION (both); optional @PROJECT suffix'}),
    attestor: Flags.string({multiple: true, description: 'attestor NAME or projects/P/attestors/NAME (repeatable)'}),
    ci: Flags.string({multiple: true, options: ['github', 'gitlab', 'cloudbuild'], description: 'CI templates to write'}),
    'kms-key': Flags.string({description: 'KMS key version the CI uses to sign'}),
    image: Flags.string({description: 'image repository the CI builds (without tag)'}),
    'action-ref': Flags.string({
      description: 'the safe-deploy GitHub Action the generated workflows use, OWNER/REPO[/PATH]@REF [default: the package repository at vVERSION]',
    }),
    dir: Flags.string({default: '.', description: 'directory to write into'}),
    force: Flags.boolean({description: 'overwrite existing files without asking'}),
    yes: Flags.boolean({char: 'y', description: 'non-interactive: take the answers from flags only'}),
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const {answers, written, skipped, unchanged} = await runInit(
      {
        // oclif has checked both against the flags' options.
        platform: flags.target as Platform | undefined,
        project: flags.project,
        env: flags.env,
        attestors: flags.attestor,
        ci: flags.ci as CiSystem[] | undefined,
        kmsKey: flags['kms-key'],
        image: flags.image,
        actionRef: flags['action-ref'] ?? defaultActionRef(this.config.pjson),
        interactive: !flags.yes && canPrompt(),
        force: flags.force,
      },
      initPorts(flags.dir),
    )
    for (const w of written) this.say(`wrote ${w}`)
    for (const s of skipped) this.say(`kept ${s} (${unchanged.includes(s) ? 'unchanged' : 'exists; use --force to overwrite'})`)
    this.say('next: review policies/, then `safe-deploy policy lint policies/<env>.yaml` and `safe-deploy preflight --profile <env> -f k8s/`')
    return {answers, written, skipped, unchanged}
  }
}
