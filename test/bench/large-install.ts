/**
 * Bench section "large install.yaml" (`npm run bench`): pin Argo CD's install.yaml (1.9 MB, mostly CRDs, 10 image
 * fields; a third-party file read from ../shared/corpus/, skipped with a message where absent), replayed from a lock
 * file so that no registry is involved, beside one Node process that only parses the same file with the yaml
 * library (the floor for reading it once). pin reads the file, then reads back only the stretches it changed
 * (docs/kubectl-reading.md#the-second-look); before that it parsed the whole output a second time.
 * Median, min and max wall time of BENCH_RUNS (default 7) after a warm-up, median CPU-s and peak RSS.
 */
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {scanManifest} from '../../src/core/manifest/scan.js'
import {parseWritten} from '../../src/core/reference/index.js'
import {FLOOR, benchRuns, series, timed} from './measure.js'

const INSTALL = 'corpus/argoproj__argo-cd__manifests__install.yaml'

export async function benchLargeInstall(root: string): Promise<void> {
  const runs = benchRuns(7)
  const source = resolve(root, '..', 'shared', INSTALL)
  console.log(`\nLarge install.yaml: pin Argo CD's install.yaml from a lock file, beside one yaml parse of it; ${runs} runs + 1 warm-up`)
  if (!existsSync(source)) {
    console.log(`  skipped: ${source} is absent (third-party corpus, ../shared/ beside the clone)`)
    return
  }
  const work = mkdtempSync(join(tmpdir(), 'safe-deploy-bench-install-'))
  try {
    const text = readFileSync(source, 'utf8')
    writeFileSync(join(work, 'install.yaml'), text)
    const images = [...new Set(scanManifest(text, 'install.yaml').sites.map((s) => s.image))]
    const lock = images.map((image, i) => {
      const r = parseWritten(image)
      return `  - image: ${JSON.stringify(image)}\n    registry: ${r.domain}\n    repository: ${r.path}\n    digest: sha256:${String(i + 1).padStart(64, '0')}\n    resolvedAt: "2026-11-29T00:00:00Z"\n`
    })
    writeFileSync(join(work, 'lock.yaml'), `apiVersion: safe-deploy.dev/v1\nkind: ImageLock\nimages:\n${lock.join('')}`)
    const pin = await series(
      `safe-deploy pin -f install.yaml --lock (${(text.length / 1e6).toFixed(1)} MB)`,
      runs,
      () => timed(process.execPath, [join(root, 'bin/run.js'), 'pin', '-f', 'install.yaml', '--lock', 'lock.yaml'], {cwd: work}),
      {rss: true},
    )
    const floor = await series(
      'node: yaml parseAllDocuments of the same file',
      runs,
      () => timed(process.execPath, [FLOOR, 'yaml', join(work, 'install.yaml')]),
      {
        rss: true,
      },
    )
    console.log(`  => pin ${(pin / floor).toFixed(2)}x one parse of the file (no goal: the figure shows the cost of a second reading)`)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchLargeInstall(resolve(process.argv[2] ?? '.')).catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exit(1)
  })
}
