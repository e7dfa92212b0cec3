/**
 * Wiring for `scan`: the pre-flight's own target, trust sources and signature source (preflightSetup,
 * with nothing to resolve: what runs is already a digest), the read-only Pod lister, and the last
 * applied digests from --lock or --audit-log.
 */
import {parseLockText} from '../core/lock.js'
import {appliedFromAudit, appliedFromLock, type AppliedDigest} from '../core/scan.js'
import type {AuditRecord} from '../core/audit.js'
import {readTextFile, requirePath} from '../adapters/fs/files.js'
import {KubePodLister, KubePodWatcher} from '../adapters/k8s/pods.js'
import type {ScanOptions, ScanWatchPorts} from '../app/scan.js'
import type {Settings} from './options.js'
import {preflightSetup, type PreflightWiringFlags} from './wiring.js'
import {auditReader} from './wiring-trust.js'

export interface ScanWiringFlags extends PreflightWiringFlags {
  'all-namespaces'?: boolean | undefined
  selector?: string | undefined
  'audit-log'?: string | undefined
  /** Page size of list calls (tests: pagination with few objects). */
  'page-size'?: number | undefined
}

export function scanSetup(flags: ScanWiringFlags, settings: Settings, debug: (l: string) => void, now: Date): {options: ScanOptions; ports: ScanWatchPorts} {
  // --lock is the drift reference here, never a resolver: nothing is resolved, the running digests are evaluated.
  const {lock, ...rest} = flags
  // What runs in a cluster is GKE's to admit, whatever target a profile names for deploys.
  const {options: pre, ports: prePorts} = preflightSetup({...rest, 'no-resolve': true}, {...settings, target: 'gke'}, [], debug)
  if (lock !== undefined)
    requirePath({
      flag: '--lock',
      path: lock,
      kind: 'file',
      hint: 'the lock file `safe-deploy pin -f … --lock-output FILE` wrote when the workloads were deployed',
    })
  const auditLog = flags['audit-log']
  if (auditLog !== undefined) requirePath({flag: '--audit-log', path: auditLog, kind: 'file', hint: 'the audit log apply writes (--audit-log of apply)'})
  const kube = settings.kube
  const applied =
    lock === undefined && auditLog === undefined
      ? undefined
      : async (): Promise<AppliedDigest[]> => {
          const out: AppliedDigest[] = []
          if (auditLog !== undefined) {
            const read = await auditReader(auditLog).read()
            out.push(...appliedFromAudit((read?.records ?? []) as AuditRecord[], auditLog))
          }
          if (lock !== undefined) out.push(...appliedFromLock(parseLockText(readTextFile(lock, 'lock file', {location: true}), lock), lock))
          return out
        }
  const client = {
    ...(kube.kubeconfig ? {kubeconfig: kube.kubeconfig} : {}),
    ...(kube.context ? {context: kube.context} : {}),
    ...(flags['page-size'] ? {pageSize: flags['page-size']} : {}),
  }
  return {
    options: {
      // -A: every namespace; else -n, the profile's, then the context's (preflightTarget resolved it).
      ...(flags['all-namespaces'] === true ? {} : {namespace: pre.target.namespace}),
      ...(flags.selector ? {selector: flags.selector} : {}),
      target: pre.target,
      systemAllowlist: pre.systemAllowlist,
      ...(pre.attestHint ? {attestHint: pre.attestHint} : {}),
      ...(pre.signatures ? {signatures: pre.signatures} : {}),
      ...(pre.platformPolicy ? {platformPolicy: pre.platformPolicy} : {}),
      now,
    },
    ports: {
      pods: new KubePodLister(client, debug),
      // Built for every scan, connects only when --watch iterates it.
      watcher: new KubePodWatcher(client, debug),
      openTrust: prePorts.openTrust,
      ...(applied ? {applied} : {}),
    },
  }
}
