import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../cli/base.js'
import {inputFlags, outputFlags, platformPolicyFlags, preflightExtraFlags, registryFlags, signatureFlags, targetFlags, trustFlags} from '../cli/flags.js'
import {loadConfig, selectProfile} from '../cli/config.js'
import {resolveSettings} from '../cli/options.js'
import {readGcloudDefaults, reportPorts} from '../cli/wiring.js'
import {scanSetup} from '../cli/wiring-scan.js'
import {processTerminal, terminalProgress} from '../cli/terminal.js'
import {scan, scanWatch, type ScanResult} from '../app/scan.js'
import {writeScanReports} from '../app/reports.js'
import {renderScanRows, renderScanText, scanNames} from '../render/scan.js'
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
      "skew (one workload runs several digests for one container). --platform-policy: each workload's Pod is also judged by a GKE " +
      "platform policy (continuous validation's checks); NON_CONFORMANT is a verdict finding, ERROR could not be checked. Exit 0: nothing would be denied (warnings only); 5: a finding would be " +
      'denied; 6: only dry-run denials; 4: something could not be checked (never reported clean). ' +
      "--watch: lists once, then watches Pods (a watch from the list's resourceVersion, not polling; list and watch only) and prints each " +
      'row as it first appears (one line each), each new digest evaluated once; a dropped watch resumes where it stopped (410 Gone: lists again). ' +
      'Ctrl-C ends it: the end of a watch, not an abort, so the exit status is the worst row it printed (0, 4, 5 or 6 as above).',
  )
  static override examples = [
    'safe-deploy scan -A --policy policy.yaml --attestors attestors/ --attestations attestations/',
    'safe-deploy scan -n prod --project my-prod --cluster us-central1.prod --report-md scan.md',
    'safe-deploy scan -n prod -l app=web --lock images.lock.yaml -o wide',
    'safe-deploy scan --print-rbac | kubectl apply -f -',
    'safe-deploy scan -A --platform-policy platform-policy.yaml',
    'safe-deploy scan -n prod --watch --policy policy.yaml --attestors attestors/ --attestations attestations/',
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
    ...platformPolicyFlags,
    ...signatureFlags,
    lock: Flags.string({description: 'drift: the lock file `pin --lock-output` wrote; a running digest other than its pin is reported', helpGroup: 'DRIFT'}),
    'audit-log': Flags.string({
      description: 'drift: the audit log apply wrote; a running digest other than the last applied one is reported',
      helpGroup: 'DRIFT',
    }),
    watch: Flags.boolean({
      char: 'w',
      description: 'keep watching Pods and print each new finding as it appears, until Ctrl-C (exit: the worst finding printed)',
      exclusive: ['json', 'output', 'report-md', 'report-junit', 'print-rbac'],
      helpGroup: 'TARGET',
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
    if (flags.watch) {
      await this.watch(options, ports, terminal.colorStderr)
      return undefined
    }
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

  /**
   * --watch until Ctrl-C (or SIGTERM). Ctrl-C is how a watch ends, not a declined action (exit 9 ABORTED is
   * for a confirmation refused before anything happened): the exit status says what the watch saw.
   * A second Ctrl-C while an evaluation is still running ends the process at once (the default handler).
   */
  private async watch(options: ScanSetup['options'], ports: ScanSetup['ports'], color: boolean): Promise<void> {
    const stop = new AbortController()
    const end = (): void => stop.abort()
    process.once('SIGINT', end)
    process.once('SIGTERM', end)
    try {
      const where = options.namespace === undefined ? 'every namespace' : `namespace ${options.namespace}`
      this.say(
        `Watching Pods (read-only) in ${where}${options.selector ? `, selector ${options.selector}` : ''}; each new finding appears below, one line each (scan without --watch gives its message and fix); Ctrl-C ends it`,
      )
      const seen = await scanWatch(options, ports, stop.signal, (rows) => this.say(renderScanRows(rows, {color})))
      this.say(
        `Watch ended: ${seen.events} Pod event(s), ${seen.evaluations} evaluation(s), ${seen.findings} finding(s)` +
          `${seen.unchecked ? `, ${seen.unchecked} could not be checked` : ''} printed`,
      )
      this.setExit(seen.exitCode)
    } finally {
      process.removeListener('SIGINT', end)
      process.removeListener('SIGTERM', end)
    }
  }
}

type ScanSetup = ReturnType<typeof scanSetup>
