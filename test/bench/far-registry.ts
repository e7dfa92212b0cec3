/**
 * Bench section "far-away registry" (issue 17): pin 1,000 unique tags from the TLS registry behind a
 * delaying TCP proxy (20 ms each way, so 40 ms per round trip), beside the ideal time for 16 requests in
 * flight, ceil(1000/16) × 40 ms, and beside curl doing the same 1,000 HEADs with 16 in parallel over
 * HTTP/1.1 and over HTTP/2, through the same proxy, in the same run (docs/testing.md#registry-timing).
 *
 * Kept apart from bench.ts's other sections (one call from main) so that the file merges easily; it also
 * runs alone: `node tmp/bench-build/test/bench/far-registry.js "$PWD"` after bench.sh's build.
 * Runs: 7 after a warm-up, or BENCH_RUNS (the CI quick mode sets fewer). "requests answered" is the registry's
 * own count (its "response completed" log lines); it does not log the 401 challenges.
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {startDelayProxy} from '../support/delay-proxy.js'
import {startRegistry} from '../support/registry.js'
import {benchRuns, median, spawned, type Spawned} from './measure.js'

const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
const DELAY_MS = 20
const TAGS = 1000
const CONCURRENCY = 16

interface Sample {
  ms: number
  /** Client CPU-s (user+sys), when measured. */
  cpu?: number
  connections: number
  requests: number
  tokenRequests: number
}

function line(label: string, samples: Sample[], ideal: number): number {
  const ms = samples.map((s) => s.ms)
  const m = median(ms)
  const cpu = samples.every((s) => s.cpu !== undefined) ? `, CPU ${median(samples.map((s) => s.cpu as number)).toFixed(2)} s` : ''
  const last = samples[samples.length - 1] as Sample
  console.log(
    `  ${label.padEnd(44)} median ${(m / 1000).toFixed(2)} s (min ${(Math.min(...ms) / 1000).toFixed(2)}, max ${(Math.max(...ms) / 1000).toFixed(2)}) = ${(m / ideal).toFixed(2)}x ideal${cpu}; ` +
      `per run: ${last.requests} requests answered, ${last.tokenRequests} token requests, ${last.connections} TCP connections`,
  )
  return m
}

export async function benchFarRegistry(root: string): Promise<void> {
  const bin = join(root, 'bin/run.js')
  const runs = benchRuns(7)
  const work = mkdtempSync(join(tmpdir(), 'safe-deploy-bench-far-'))
  const ideal = Math.ceil(TAGS / CONCURRENCY) * 2 * DELAY_MS
  console.log(
    `\nFar-away registry: pin ${TAGS} unique tags from the TLS registry behind a delaying proxy (${DELAY_MS} ms each way), ${runs} runs + 1 warm-up; ` +
      `ideal ceil(${TAGS}/${CONCURRENCY}) x ${2 * DELAY_MS} ms = ${(ideal / 1000).toFixed(2)} s`,
  )
  // Token auth with anonymous pull, as public registries do: safe-deploy meets the challenge and asks the
  // token service (not behind the proxy); curl is handed a token up front and pays neither.
  const reg = await startRegistry({tls: true, auth: 'token', anonymousPull: true})
  const tokenServer = reg.tokenServer as NonNullable<typeof reg.tokenServer>
  const proxy = await startDelayProxy(reg.host, DELAY_MS)
  try {
    const caFile = reg.caFile as string
    const tags = await reg.pushManyTags('bench/far', TAGS)
    const manifest = join(work, 'far.yaml')
    let yaml = ''
    for (const t of tags.keys())
      yaml += `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${t}\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          image: ${proxy.host}/bench/far:${t}\n`
    writeFileSync(manifest, yaml)
    const cfg = join(work, 'urls.cfg')
    writeFileSync(cfg, [...tags.keys()].map((t) => `url = "https://${proxy.host}/v2/bench/far/manifests/${t}"\noutput = "/dev/null"`).join('\n') + '\n')

    const measure = async (what: () => Promise<Spawned>, check: (r: Spawned) => {cpu?: number}): Promise<Sample[]> => {
      const samples: Sample[] = []
      for (let i = 0; i <= runs; i++) {
        // Let the registry's log lines of the previous run arrive before taking the baseline.
        await new Promise((r) => setTimeout(r, 300))
        const served0 = reg.requestsServed()
        const tokens0 = tokenServer.tokenRequests
        const conn0 = proxy.connections
        const r = await what()
        if (r.code !== 0) throw new Error(`far-away registry bench: exit ${r.code}: ${r.stderr.slice(0, 2000)}`)
        const extra = check(r)
        await new Promise((res) => setTimeout(res, 300))
        const sample: Sample = {
          ms: r.ms,
          connections: proxy.connections - conn0,
          requests: reg.requestsServed() - served0,
          tokenRequests: tokenServer.tokenRequests - tokens0,
          ...extra,
        }
        if (i > 0) samples.push(sample) // the first is the warm-up
      }
      return samples
    }
    const bearer = tokenServer.mint(reg.user, [{type: 'repository', name: 'bench/far', actions: ['pull']}])
    const curl = (http: '--http1.1' | '--http2') =>
      measure(
        () =>
          spawned(
            'curl',
            [
              '-sS',
              '--fail',
              '-I',
              http,
              '--parallel',
              '--parallel-max',
              String(CONCURRENCY),
              '--cacert',
              caFile,
              '-H',
              `Accept: ${ACCEPT}`,
              '-H',
              `Authorization: Bearer ${bearer}`,
              '-K',
              cfg,
            ],
            {cwd: work},
          ),
        () => ({}),
      )
    const pin = (extra: string[]) =>
      measure(
        () =>
          spawned(
            '/usr/bin/time',
            [
              '-f',
              'BENCH %e %U %S',
              process.execPath,
              bin,
              'pin',
              '-f',
              manifest,
              '--registry-ca-cert',
              caFile,
              '--concurrency',
              String(CONCURRENCY),
              ...extra,
            ],
            {cwd: work},
          ),
        (r) => {
          if ((r.stdout.match(/@sha256:/g) ?? []).length !== TAGS) throw new Error(`pin did not pin ${TAGS} references: ${r.stderr.slice(0, 2000)}`)
          const m = /BENCH ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr)
          return m === null ? {} : {cpu: Number(m[2]) + Number(m[3])}
        },
      )
    const c1 = line('curl --parallel-max 16 --http1.1 (1000 HEAD)', await curl('--http1.1'), ideal)
    const c2 = line('curl --parallel-max 16 --http2 (1000 HEAD)', await curl('--http2'), ideal)
    // A build from before HTTP/2 (a "before" figure) has no --no-registry-http2 and speaks HTTP/1.1 only.
    const help = await spawned(process.execPath, [bin, 'pin', '--help'], {cwd: work})
    const hasHttp2 = help.stdout.includes('registry-http2')
    const h1 = line('safe-deploy pin, HTTP/1.1', await pin(hasHttp2 ? ['--no-registry-http2'] : []), ideal)
    const h2 = hasHttp2 ? line('safe-deploy pin, HTTP/2 where offered', await pin([]), ideal) : undefined
    console.log(
      `  => HTTP/1.1 ${(h1 / ideal).toFixed(2)}x ideal (goal <= 1.1x; curl ${(c1 / ideal).toFixed(2)}x), ` +
        (h2 === undefined ? 'HTTP/2: not in this build' : `HTTP/2 ${(h2 / ideal).toFixed(2)}x ideal (goal <= 0.5x; curl ${(c2 / ideal).toFixed(2)}x)`),
    )
  } finally {
    await proxy.stop()
    await reg.stop()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchFarRegistry(resolve(process.argv[2] ?? '.')).catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exit(1)
  })
}
