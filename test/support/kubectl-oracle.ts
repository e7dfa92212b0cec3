/**
 * The real kubectl as the oracle for "what would be sent": `kubectl apply --dry-run=client -o json`
 * against the Kubernetes API test double prints the objects kubectl decoded from its input, which
 * are the objects it would send. Image values are collected from that output by imagesOf, a plain
 * walk independent of safe-deploy's locator.
 *
 * `--validate=false`: the double serves no OpenAPI for List kinds, and validation is not what is
 * being compared (an attacker can pass `-- --validate=false` too, as the issue notes).
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startKubeApiServer, type KubeApiServer} from './kube-apiserver.js'

export interface KubectlView {
  /** kubectl's exit status (non-zero when any object or file failed; the others are still printed). */
  status: number | null
  /** Image values in the objects kubectl would send, in output order. */
  images: string[]
  /** Objects kubectl would send. */
  objects: Array<Record<string, unknown>>
  stderr: string
}

export class KubectlOracle {
  private batch = 0
  private constructor(
    private readonly server: KubeApiServer,
    private readonly dir: string,
    private readonly kubeconfig: string,
  ) {}

  static async start(): Promise<KubectlOracle> {
    const server = await startKubeApiServer()
    const dir = mkdtempSync(join(tmpdir(), 'sd-oracle-'))
    const kubeconfig = server.writeKubeconfig(dir, {namespace: 'team'})
    return new KubectlOracle(server, dir, kubeconfig)
  }

  async stop(): Promise<void> {
    await this.server.stop()
    rmSync(this.dir, {recursive: true, force: true})
  }

  /** What kubectl would send for one stream given on stdin. */
  read(text: string | Buffer): Promise<KubectlView> {
    return this.run(['-f', '-'], text)
  }

  /**
   * What kubectl would send for many streams at once (one file each, one kubectl run): the files'
   * objects in file order; a file that fails is named in stderr and the others are still read.
   * Returns the file paths too, so failures can be attributed.
   */
  async readMany(texts: readonly string[]): Promise<KubectlView & {files: string[]}> {
    const dir = join(this.dir, `batch-${++this.batch}`)
    mkdirSync(dir)
    const files = texts.map((t, i) => {
      const f = join(dir, `${String(i).padStart(5, '0')}.yaml`)
      writeFileSync(f, t)
      return f
    })
    const view = await this.run(['-f', dir], '')
    rmSync(dir, {recursive: true, force: true})
    return {...view, files}
  }

  private run(source: string[], input: string | Buffer): Promise<KubectlView> {
    const args = [
      'apply',
      '--validate=false',
      '--dry-run=client',
      '-o',
      'json',
      ...source,
      '--kubeconfig',
      this.kubeconfig,
      '--cache-dir',
      join(this.dir, 'cache'),
    ]
    return new Promise((resolve, reject) => {
      // Asynchronous on purpose: the API double runs in this process and must keep answering.
      const child = spawn('kubectl', args, {stdio: ['pipe', 'pipe', 'pipe']})
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (c: Buffer) => out.push(c))
      child.stderr.on('data', (c: Buffer) => err.push(c))
      child.on('error', reject)
      child.on('close', (status) => {
        const stdout = Buffer.concat(out).toString('utf8')
        const objects = parseOutput(stdout)
        resolve({status, objects, images: objects.flatMap(imagesOf), stderr: Buffer.concat(err).toString('utf8')})
      })
      child.stdin.on('error', () => undefined)
      child.stdin.end(input)
    })
  }
}

/** `-o json` prints one object, or a List of them; several runs of output may follow one another. */
function parseOutput(stdout: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  let rest = stdout.trim()
  while (rest !== '') {
    // kubectl prints indented JSON values back to back; find where the first one ends.
    let depth = 0
    let inString = false
    let end = -1
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i]
      if (inString) {
        if (c === '\\') i++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === '{') depth++
      else if (c === '}' && --depth === 0) {
        end = i + 1
        break
      }
    }
    if (end < 0) throw new Error(`unreadable kubectl output: ${rest.slice(0, 200)}`)
    const value = JSON.parse(rest.slice(0, end)) as Record<string, unknown>
    if (value.kind === 'List' && Array.isArray(value.items)) out.push(...(value.items as Array<Record<string, unknown>>))
    else out.push(value)
    rest = rest.slice(end).trim()
  }
  return out
}

/**
 * Every image value in an object, found by a plain walk independent of safe-deploy's locator: the
 * `image` of every element of a `containers`, `initContainers` or `ephemeralContainers` list,
 * wherever it is, and `image.reference` of every element of a `volumes` list.
 */
export function imagesOf(value: unknown): string[] {
  const out: string[] = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x)
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'containers' || k === 'initContainers' || k === 'ephemeralContainers') && Array.isArray(x)) {
          for (const c of x)
            if (typeof c === 'object' && c !== null && typeof (c as {image?: unknown}).image === 'string') out.push((c as {image: string}).image)
        } else if (k === 'volumes' && Array.isArray(x)) {
          for (const vol of x) {
            const ref = (vol as {image?: {reference?: unknown}} | null)?.image?.reference
            if (typeof ref === 'string') out.push(ref)
          }
        }
        walk(x)
      }
    }
  }
  walk(value)
  return out
}
