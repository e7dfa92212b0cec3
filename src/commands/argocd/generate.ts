import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {imagePlatformFlags, inputFlags, pinFlags, registryFlags, signatureFlags, targetFlags, trustFlags} from '../../cli/flags.js'
import {loadConfig, selectProfile} from '../../cli/config.js'
import {resolveSettings} from '../../cli/options.js'
import {preflightSetup, readGcloudDefaults} from '../../cli/wiring.js'
import {argocdInputs, argocdParameters, excludingReader} from '../../cli/argocd.js'
import {preflight} from '../../app/preflight.js'
import {EXIT, SafeDeployError} from '../../core/errors.js'
import {exitForPreflight, incomplete} from '../../core/preflight.js'
import {joinYamlStreams} from '../../render/pin.js'
import {verdictSummary} from '../../render/preflight.js'
import {argocdErrorLine, argocdVerdictLine} from '../../render/argocd.js'

export default class ArgocdGenerate extends BaseCommand {
  static override summary = "Argo CD plugin's generate: pin and pre-flight the app, print the pinned objects only if allowed"
  static override description = withExitCodes(
    'The `generate` command of the safe-deploy Config Management Plugin (templates/argocd/plugin.yaml), run by Argo CD in the app directory. ' +
      'Reads the manifests of the `manifests` directory (default the app directory): kustomize when it has a kustomization, else `helm template` when it has a Chart.yaml ' +
      '(release ARGOCD_APP_NAME, namespace ARGOCD_APP_NAMESPACE, KUBE_VERSION, KUBE_API_VERSIONS, the `values` files in order), else every manifest below it (' +
      "safe-deploy's own config, policy and trust files left out), pins every image, pre-flights the pinned objects, and prints them on stdout: " +
      'what is printed is what was evaluated. On any problem (a denial, an image that could not be checked, a value no image rule examined, no objects at all) ' +
      'stdout stays empty, stderr is one line (what Argo CD shows) and the exit status is non-zero: an empty output with auto-prune would delete the app. ' +
      'The Application selects the profile, policy, cluster and project with plugin parameters (PARAM_*) or env (ARGOCD_ENV_SAFE_DEPLOY_*); flags win over both. ' +
      'A dry-run denial is generated (GKE admits it and logs the denial), with a warning.',
  )
  static override examples = ['safe-deploy argocd generate', 'ARGOCD_ENV_SAFE_DEPLOY_PROFILE=prod safe-deploy argocd generate --registry-timeout 10']
  static override flags = {
    ...inputFlags,
    ...targetFlags,
    ...trustFlags,
    ...signatureFlags,
    ...imagePlatformFlags('PIN'),
    lock: pinFlags.lock,
    'strip-tag': pinFlags['strip-tag'],
    ...registryFlags,
  }

  async run(): Promise<void> {
    const {flags: given} = await this.parse(ArgocdGenerate)
    const argo = argocdParameters(process.env)
    const inputs = given.filename || given.kustomize ? undefined : argocdInputs(argo, process.env)
    const flags = {
      ...given,
      profile: given.profile ?? argo.profile,
      policy: given.policy ?? argo.policy,
      cluster: given.cluster ?? argo.cluster,
      project: given.project ?? argo.project,
    }
    const configFile = flags.config ?? '.safe-deploy.yaml'
    const cfg = loadConfig(flags.config)
    const settings = resolveSettings(flags, selectProfile(cfg, flags.profile), readGcloudDefaults())
    const setup = preflightSetup(flags, settings, cfg.imageRules, this.debugLog)
    // Without -f or -k, the app's inputs as found (kustomize, a Helm chart, which has no flag, or files) are the use case's.
    const options = inputs ? {...setup.options, inputs} : setup.options
    const ports = setup.ports
    const t = settings.trust
    const reader = excludingReader(ports.reader, [configFile, t.policy, t.systemPolicy, t.attestors, t.attestations])
    const {result, pin} = await preflight(options, {...ports, reader})
    const code = exitForPreflight(result)
    // A dry-run denial is admitted by GKE: generated, with a warning; anything else not allowed generates nothing.
    if (code !== EXIT.OK && (result.verdict !== 'DRYRUN_DENY' || incomplete(result))) {
      process.stderr.write(argocdVerdictLine(result, incomplete(result) ? 'INCOMPLETE' : result.verdict) + '\n')
      this.setExit(code)
      return
    }
    const texts = (pin?.outputs ?? []).map((o) => o.text).filter((t) => t.trim() !== '')
    if (texts.length === 0) {
      throw new SafeDeployError('INVALID_INPUT', 'no Kubernetes objects to generate', {
        hint: 'set the manifests parameter to the directory of the manifests (an empty output would let auto-prune delete the app)',
      })
    }
    if (result.verdict === 'DRYRUN_DENY') process.stderr.write(`warning: ${argocdVerdictLine(result, 'DRYRUN_DENY (deployed, audit-logged)')}\n`)
    process.stderr.write(`safe-deploy: ${verdictSummary(result)}\n`)
    process.stdout.write(joinYamlStreams(texts))
  }

  /** One line on stderr, nothing on stdout: Argo CD shows the line as the app's error. */
  protected override async catch(err: Error & {oclif?: {exit?: number}}): Promise<unknown> {
    if (!(err instanceof SafeDeployError)) return super.catch(err)
    process.exitCode = err.exitCode
    process.stderr.write(argocdErrorLine(err) + '\n')
    return this.exit(err.exitCode)
  }
}
