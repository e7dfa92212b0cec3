/**
 * Manifest inputs: files, directories (optionally recursive), stdin (`-`), `kubectl kustomize` and
 * `helm template` output. Every input is decoded as strict UTF-8 and bounded in size.
 */
import {execFile} from 'node:child_process'
import {open, readdir, stat} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {SafeDeployError} from '../../core/errors.js'
import {decodeUtf8} from '../../core/manifest/parse.js'
import type {HelmChartInput} from '../../core/ports.js'

/** Largest single input accepted (bytes). */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024

const MANIFEST_EXT = /\.(?:ya?ml|json)$/i

export interface ReadInputsOptions {
  /** Paths as given; `-` is stdin. Directories list *.yaml, *.yml and *.json. */
  files: string[]
  /** Descend into subdirectories of directories given in files. */
  recursive: boolean
  /** Directories to build with `kubectl kustomize DIR`. */
  kustomizeDirs: string[]
  /** Charts to render with `helm template` (after the kustomizations). */
  helmCharts?: readonly HelmChartInput[] | undefined
  /** Reads all of stdin (called at most once). Defaults to process.stdin. */
  stdin?: () => Promise<string>
  /** Per-input size limit in bytes (default 64 MiB). */
  maxBytes?: number
  /** kubectl binary (default `kubectl` on PATH). */
  kubectl?: string
  /** helm binary (default `helm` on PATH). */
  helm?: string
}

export interface InputFile {
  /** The path as given (files found in a directory: DIR/name), `-` for stdin, `kustomize:DIR`, `helm:DIR`. */
  file: string
  text: string
}

function mib(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / 1024 / 1024).toFixed(1))} MiB`
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`
  return `${bytes} bytes`
}

function tooLarge(file: string, size: number | undefined, max: number): SafeDeployError {
  const shown = file === '-' ? '<stdin>' : file
  return new SafeDeployError(
    'INVALID_INPUT',
    `${shown}: input is ${size === undefined ? 'larger than' : mib(size) + ', over'} the ${mib(max)} limit for a single manifest`,
    {hint: 'split the manifest into several files (each under the limit) and pass them with -f', location: {file}},
  )
}

function ioError(file: string, err: unknown): SafeDeployError {
  const code = (err as {code?: unknown} | null)?.code
  const why =
    code === 'ENOENT'
      ? 'no such file or directory'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : err instanceof Error
            ? err.message
            : String(err)
  return new SafeDeployError('INVALID_INPUT', `${file}: cannot read the input: ${why}`, {
    hint: code === 'ENOENT' ? 'check the path (use - to read from stdin)' : 'check the path and its permissions',
    cause: err,
    location: {file},
  })
}

/** Read a regular file, refusing it up front when it is over the limit. */
async function readBounded(path: string, max: number): Promise<Uint8Array> {
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw ioError(path, e)
  })
  try {
    const st = await fh.stat()
    if (st.size > max) throw tooLarge(path, st.size, max)
    const buf = await fh.readFile()
    if (buf.length > max) throw tooLarge(path, buf.length, max)
    return buf
  } catch (e) {
    if (e instanceof SafeDeployError) throw e
    throw ioError(path, e)
  } finally {
    await fh.close()
  }
}

/** Manifest files in a directory, sorted by name; subdirectories only when recursive (else they are added to `skipped`). */
async function listDirectory(dir: string, recursive: boolean, seen: Set<string>, skipped: string[] = []): Promise<string[]> {
  const real = resolve(dir)
  if (seen.has(real)) return []
  seen.add(real)
  const entries = await readdir(dir, {withFileTypes: true}).catch((e: unknown) => {
    throw ioError(dir, e)
  })
  const names = entries.map((e) => e.name).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const out: string[] = []
  for (const name of names) {
    const path = join(dir, name)
    const st = await stat(path).catch(() => undefined) // dangling symlinks are skipped
    if (!st) continue
    if (st.isDirectory()) {
      if (recursive) out.push(...(await listDirectory(path, recursive, seen)))
      else skipped.push(name)
    } else if (st.isFile() && MANIFEST_EXT.test(name)) {
      out.push(path)
    }
  }
  return out
}

async function readProcessStdin(max: number): Promise<string> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    total += buf.length
    if (total > max) throw tooLarge('-', undefined, max)
    chunks.push(buf)
  }
  return decodeUtf8(Buffer.concat(chunks), '-')
}

/** What a rendering tool is run for: its output is read as one manifest input named `label`. */
interface Renderer {
  /** The input's name in every message: `kustomize:DIR`, `helm:DIR`. */
  label: string
  command: string
  args: string[]
  /** The command as a user would type it (messages and hints). */
  shown: string
  /** What to do when the command is not on PATH. */
  missingHint: string
  /** What to do when it fails. */
  failedHint: string
}

/** Run a renderer through execFile (an argument array, never a shell); stdout is the manifest. */
function render(r: Renderer, max: number): Promise<string> {
  const file = r.label
  return new Promise((resolvePromise, reject) => {
    execFile(r.command, r.args, {encoding: 'buffer', maxBuffer: max, windowsHide: true}, (err, stdout, stderr) => {
      if (err) {
        const code = (err as {code?: unknown}).code
        if (code === 'ENOENT') {
          reject(
            new SafeDeployError('INVALID_INPUT', `${file}: cannot run ${r.command}: not found on PATH`, {hint: r.missingHint, cause: err, location: {file}}),
          )
          return
        }
        if (code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          reject(tooLarge(file, undefined, max))
          return
        }
        const detail = Buffer.from(stderr).toString('utf8').trim() || err.message
        reject(new SafeDeployError('INVALID_INPUT', `${file}: ${r.shown} failed: ${detail}`, {hint: r.failedHint, cause: err, location: {file}}))
        return
      }
      try {
        resolvePromise(decodeUtf8(stdout, file))
      } catch (e) {
        reject(e)
      }
    })
  })
}

function kustomizeRenderer(dir: string, kubectl: string): Renderer {
  return {
    label: `kustomize:${dir}`,
    command: kubectl,
    args: ['kustomize', dir],
    shown: `kubectl kustomize ${dir}`,
    missingHint: 'install kubectl (it builds kustomizations with `kubectl kustomize`), or pass the built output with -f -',
    failedHint: `run kubectl kustomize ${dir} to see the problem and fix the kustomization`,
  }
}

/**
 * `helm template` as Argo CD runs it for a Helm source: the Application's name as the release, its
 * destination namespace, the cluster's version and API versions, the values files in order, CRDs
 * included. A chart is rendered locally: no repository, cluster or values URL is reached.
 */
export function helmTemplateArgs(chart: HelmChartInput): string[] {
  const args = ['template', chart.release, chart.dir, '--include-crds']
  if (chart.namespace !== undefined) args.push('--namespace', chart.namespace)
  if (chart.kubeVersion !== undefined) args.push('--kube-version', chart.kubeVersion)
  for (const v of chart.apiVersions) args.push('--api-versions', v)
  for (const f of chart.valuesFiles) args.push('--values', f)
  return args
}

function helmRenderer(chart: HelmChartInput, helm: string): Renderer {
  return {
    label: `helm:${chart.dir}`,
    command: helm,
    args: helmTemplateArgs(chart),
    shown: `helm template ${chart.dir}`,
    missingHint: 'add helm to the image that runs safe-deploy (the Argo CD sidecar), or render the chart in CI and give the output to the plugin as plain YAML',
    failedHint: `run helm template ${chart.dir} to see the problem (a chart with dependencies needs them in charts/: helm dependency build ${chart.dir})`,
  }
}

/**
 * Every input, in the order given: files and directories first (a directory expands to its
 * manifest files, sorted), then kustomize outputs, then helm outputs. Stdin is read once; a path given twice is read once.
 */
export async function readInputs(opts: ReadInputsOptions): Promise<InputFile[]> {
  const max = opts.maxBytes ?? DEFAULT_MAX_INPUT_BYTES
  const out: InputFile[] = []
  const taken = new Set<string>()
  const seenDirs = new Set<string>()
  let stdinRead = false

  const addFile = async (path: string): Promise<void> => {
    const key = resolve(path)
    if (taken.has(key)) return
    taken.add(key)
    out.push({file: path, text: decodeUtf8(await readBounded(path, max), path)})
  }

  for (const f of opts.files) {
    if (f === '-') {
      if (stdinRead) continue
      stdinRead = true
      const text = opts.stdin ? await opts.stdin() : await readProcessStdin(max)
      if (Buffer.byteLength(text, 'utf8') > max) throw tooLarge('-', Buffer.byteLength(text, 'utf8'), max)
      out.push({file: '-', text})
      continue
    }
    const st = await stat(f).catch((e: unknown) => {
      throw ioError(f, e)
    })
    if (st.isDirectory()) {
      const subdirectories: string[] = []
      const found = await listDirectory(f, opts.recursive, seenDirs, subdirectories)
      if (found.length === 0) {
        const some = subdirectories.slice(0, 3).join(', ') + (subdirectories.length > 3 ? ', …' : '')
        throw new SafeDeployError('INVALID_INPUT', `${f}: no *.yaml, *.yml or *.json files in this directory${opts.recursive ? ' or below it' : ''}`, {
          // -R helps only when there are subdirectories to descend into.
          hint:
            subdirectories.length > 0
              ? `use -R to include its subdirectories (${some})`
              : 'manifests are read from files ending in .yaml, .yml or .json (as kubectl reads them); check the directory',
          location: {file: f},
        })
      }
      for (const path of found) await addFile(path)
    } else {
      await addFile(f)
    }
  }

  const renderers = [
    ...opts.kustomizeDirs.map((dir) => kustomizeRenderer(dir, opts.kubectl ?? 'kubectl')),
    ...(opts.helmCharts ?? []).map((chart) => helmRenderer(chart, opts.helm ?? 'helm')),
  ]
  for (const r of renderers) out.push({file: r.label, text: await render(r, max)})
  return out
}
