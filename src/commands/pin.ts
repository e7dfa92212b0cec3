import {BaseCommand, withExitCodes} from '../cli/base.js'
import {inputFlags, pinFlags, registryFlags} from '../cli/flags.js'
import {Flags} from '@oclif/core'
import {SafeDeployError} from '../core/errors.js'
import {loadConfig} from '../cli/config.js'
import {PrefetchingResolver, buildResolver, joinYamlStreams, loadManifests, pinLoaded, readBackPinned, readLockFile, writeLock, writeFilesAtomic} from '../cli/pipeline.js'
import type {PinStatus} from '../core/pin.js'

export interface PinSiteJson {
  file: string
  document: number
  apiVersion: string
  kind: string
  name: string
  path: string
  line: number
  original: string
  pinned: string
  digest: string
  status: PinStatus
  currentDigest?: string
  platform?: string
}

export interface PinJson {
  sites: PinSiteJson[]
  summary: {sites: number; unique: number; pinned: number; alreadyPinned: number; drift: number; files: number}
  warnings: string[]
  written: string[]
}

export default class Pin extends BaseCommand {
  static override summary = 'Rewrite every image reference from tag to digest'
  static override description = withExitCodes(
    'Resolves every image reference in Kubernetes manifests, Knative/Cloud Run service YAML and kustomize output to the digest it points to now, ' +
      'and rewrites only the image values (comments, quoting and layout are kept). Pinned YAML goes to stdout, or back to the files with --write ' +
      '(atomic: if any image fails, no file is written). Progress and the summary go to stderr.',
  )
  static override examples = [
    'helm template ./chart | <%= config.bin %> pin -f - | kubectl apply -f -',
    '<%= config.bin %> pin -f k8s/ -R --write --lock-output images.lock.yaml',
    '<%= config.bin %> pin -f k8s/ --lock images.lock.yaml      # replay, no registry calls',
    '<%= config.bin %> pin -f deploy.yaml --platform linux/arm64 --strip-tag',
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...inputFlags,
    ...pinFlags,
    ...registryFlags,
    write: Flags.boolean({char: 'w', description: 'rewrite the input files in place (atomic, all or nothing)'}),
    platform: Flags.string({description: 'pin the child manifest of a multi-arch index for os/arch[/variant] (default: the index digest)'}),
  }

  async run(): Promise<PinJson> {
    const {flags} = await this.parse(Pin)
    if (flags.write && (flags.filename ?? []).includes('-')) {
      throw new SafeDeployError('USAGE', '--write cannot rewrite stdin', {hint: 'drop --write to get the pinned YAML on stdout'})
    }
    if (flags.write && (flags.kustomize ?? []).length > 0) {
      throw new SafeDeployError('USAGE', '--write cannot rewrite kustomize output', {hint: 'pin the kustomize output on stdout, or pin the base files with -f'})
    }
    if (flags.lock && flags.platform) {
      throw new SafeDeployError('USAGE', '--platform has no effect with --lock (the lock file already records the platform)')
    }
    const cfg = loadConfig(flags.config)
    const lock = flags.lock ? readLockFile(flags.lock) : undefined
    // Lookups start while the input is still being parsed (exact image sites only).
    const resolver = lock ? undefined : new PrefetchingResolver(buildResolver(flags, flags.platform, this.debugLog), flags.concurrency)
    const loaded = await loadManifests(flags, cfg.imageRules, resolver)
    const started = Date.now()
    const run = await pinLoaded(loaded, {...(resolver ? {resolver} : {}), ...(lock ? {lock} : {})}, {stripTag: flags['strip-tag']})
    readBackPinned(run)

    for (const w of run.result.warnings) this.say(`warning: ${w}`)
    const written: string[] = []
    if (flags.write) {
      const changed = run.outputs.filter((o) => o.changed)
      await writeFilesAtomic(changed.map((o) => ({path: o.file, text: o.text})))
      written.push(...changed.map((o) => o.file))
    }
    if (flags['lock-output']) await writeLock(flags['lock-output'], run.result)

    const sites = run.result.sites
    const summary = {
      sites: sites.length,
      unique: new Set(sites.map((s) => s.original)).size,
      pinned: sites.filter((s) => s.status === 'pinned').length,
      alreadyPinned: sites.filter((s) => s.status !== 'pinned').length,
      drift: sites.filter((s) => s.status === 'drift').length,
      files: run.files.length,
    }
    const secs = ((Date.now() - started) / 1000).toFixed(2)
    this.say(`pinned ${summary.pinned} image reference(s) (${summary.unique} unique) in ${summary.files} file(s) in ${secs}s; ` +
      `${summary.alreadyPinned} already pinned${summary.drift ? `, ${summary.drift} DRIFTED` : ''}` +
      (written.length ? `; wrote ${written.length} file(s)` : '') + (flags['lock-output'] ? `; lock: ${flags['lock-output']}` : ''))

    if (!flags.write) this.out(joinYamlStreams(run.outputs.map((o) => o.text)))
    return {
      sites: sites.map((s) => ({
        file: s.site.file, document: s.site.document, apiVersion: s.site.apiVersion, kind: s.site.kind, name: s.site.name,
        path: s.site.pathString, line: s.site.line, original: s.original, pinned: s.pinned, digest: s.digest, status: s.status,
        ...(s.currentDigest ? {currentDigest: s.currentDigest} : {}), ...(s.platform ? {platform: s.platform} : {}),
      })),
      summary, warnings: run.result.warnings, written,
    }
  }
}
