import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {inputFlags, outputFlags, preflightExtraFlags, registryFlags, signatureFlags, targetFlags, trustFlags} from '../cli/flags.js'
import {loadConfig, selectProfile} from '../cli/config.js'
import {resolveSettings} from '../cli/options.js'
import {readGcloudDefaults, reportPorts} from '../cli/wiring.js'
import {scanSetup} from '../cli/wiring-scan.js'
import {processTerminal, terminalProgress} from '../cli/terminal.js'
import {scan, type ScanResult} from '../app/scan.js'
import {writeScanReports} from '../app/reports.js'
import {renderScanText, scanNames} from '../render/scan.js'
import {exitForScan, scanClusterRole} from '../core/scan.js'

export default class Scan extends BaseCommand {
  static override summary = 'What runs now that would not pass today: tags, denied or unsigned digests, break-glass Pods, drift, skew'
  static override description = withExitCodes(
    'Read-only: lists Pods (and the ReplicaSets and Jobs that own them) with get/list calls only, page by page, and never writes to the ' +
      'cluster (`--print-rbac` prints the ClusterRole it needs). Each container is judged by the digest the kubelet resolved ' +
      '(status imageID), evaluated by the same pre-flight as `preflight` (policy, attestors, attestations, registry signatures), once per ' +
      'unique digest. Findings are grouped by workload (one row per Deployment, not per Pod), worst first, each with its fix: ' +
      'tag (the spec names a tag), verdict (the policy denies the running digest), unsigned (registry signatures missing), ' +
      'break-glass (Pods admitted by the annotation, with age), drift (running digest differs from --lock or the --audit-log), ' +
      'skew (one workload runs several digests for one container). Exit 0: nothing would be denied (warnings only); 5: a finding would be ' +
      'denied; 6: only dry-run denials; 4: something could not be checked (never reported clean).',
  )
  static override examples = [
    '<%= config.bin %> scan -A --policy policy.yaml --attestors attestors/ --attestations attestations/',
    '<%= config.bin %> scan -n prod --project my-prod --cluster us-central1.prod --report-md scan.md',
    '<%= config.bin %> scan -n prod -l app=web --lock images.lock.yaml -o wide',
    '<%= config.bin %> scan --print-rbac | kubectl apply -f -',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'ScanResult'
  static override flags = {
    config: inputFlags.config,
    profile: inputFlags.profile,
    context: targetFlags.context,
    kubeconfig: targetFlags.kubeconfig,
    cluster: targetFlags.cluster,
    namespace: Flags.string({
      char: 'n',
      description: 'scan this namespace (default: the profile\'s, then the context\'s, then "default")',
      helpGroup: 'TARGET',
    }),
    'all-namespaces': Flags.boolean({char: 'A', description: 'scan every namespace', exclusive: ['namespace'], helpGroup: 'TARGET'}),
    selector: Flags.string({char: 'l', description: 'only Pods matching this label selector (e.g. app=web)', helpGroup: 'TARGET'}),
    'page-size': Flags.integer({min: 1, max: 5000, default: 500, description: 'objects per list call (limit/continue)', hidden: true, helpGroup: 'TARGET'}),
    ...trustFlags,
    ...signatureFlags,
    lock: Flags.string({description: 'drift: the lock file `pin --lock-output` wrote; a running digest other than its pin is reported', helpGroup: 'DRIFT'}),
    'audit-log': Flags.string({
      description: 'drift: the audit log apply wrote; a running digest other than the last applied one is reported',
      helpGroup: 'DRIFT',
    }),
    'print-rbac': Flags.boolean({description: 'print the read-only ClusterRole scan needs (get/list) and exit', helpGroup: 'TARGET'}),
    'report-md': preflightExtraFlags['report-md'],
    'report-junit': preflightExtraFlags['report-junit'],
    ...registryFlags,
    ...outputFlags,
  }

  async run(): Promise<ScanResult | undefined> {
    const {flags} = await this.parse(Scan)
    if (flags['print-rbac']) {
      process.stdout.write(scanClusterRole())
      return undefined
    }
    const cfg = loadConfig(flags.config)
    const settings = resolveSettings(flags, selectProfile(cfg, flags.profile), readGcloudDefaults())
    const {options, ports} = scanSetup(flags, settings, this.debugLog, new Date())
    const terminal = processTerminal(flags['no-color'])
    const result = await scan(options, {...ports, progress: terminalProgress(terminal.progress && !this.jsonEnabled())})
    const reports = await writeScanReports(
      result,
      {markdown: settings.reportMd, junit: settings.reportJunit, stepSummary: process.env.GITHUB_STEP_SUMMARY},
      reportPorts,
    )
    // The report is human text (stderr); the data is --json, --report-md and --report-junit.
    const output = this.output()
    this.say(renderScanText(result, {color: terminal.colorStderr, wide: output === 'wide'}))
    for (const r of reports) this.say(`report written: ${r}`)
    if (output === 'name') this.out(scanNames(result))
    this.setExit(exitForScan(result))
    return result
  }
}
