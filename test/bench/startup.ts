/**
 * Start-up rows of `npm run bench` (issue #17): whole processes that need no network, each beside
 * `kubectl version --client` measured in the same loop (the two alternate, so load on the shared machine
 * falls on both alike).
 *   1. `safe-deploy --help`, `safe-deploy pin --help` (goal <= 1.3x kubectl)
 *   2. `pin -f one-deployment.yaml`, the image already pinned (goal <= 1.5x); then the same without the code cache
 *      (SAFE_DEPLOY_DISABLE_CODE_CACHE=1), what a command's first run pays (no goal). The other rows run with the
 *      cache their warm-up left, as a user's second run does.
 *   3. `preflight --no-resolve` on one Pod, a one-attestor policy, attestors and attestations from files (goal <= 1.5x)
 *   4. loading the Kubernetes client (the scan, the API applier): the bundle's client-node.cjs beside the package
 *      loaded from node_modules, as it was before it was bundled (no goal: the figure shows what the bundling saves)
 * Each row: median, min and max wall time of BENCH_STARTUP_RUNS (default 11, at least 7) runs after one warm-up,
 * and the median CPU-s (user + sys) of the child from /usr/bin/time. BENCH_QUICK=1 (CI) runs each twice, only to
 * catch a broken benchmark. Run alone: `node tmp/bench-build/test/bench/startup.js ROOT`.
 */
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {makeAttestor, requireAttestationPolicy} from '../support/trust.js'
import {chunksHolding, readBundleMeta} from '../support/bundle-meta.js'
import {pemSigner, buildOccurrence} from '../../src/core/attestation/sign.js'
import {buildSignaturePayload} from '../../src/core/attestation/payload.js'

const QUICK = process.env.BENCH_QUICK === '1'
const RUNS = QUICK ? 2 : Math.max(7, Number(process.env.BENCH_STARTUP_RUNS ?? 11))
const DIGEST = 'sha256:' + 'ab'.repeat(32)
const IMAGE = `us-docker.pkg.dev/bench-proj/shop/frontend@${DIGEST}`

interface Run {
  wall: number
  cpu: number
}

/** One process under /usr/bin/time: wall ms from here, CPU-s (user + sys) of the child as time reports it. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, expect: (stdout: string) => boolean): Promise<Run> {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint()
    const child = spawn('/usr/bin/time', ['-f', 'BENCH-CPU %U %S', cmd, ...args], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', rej)
    child.on('close', (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e6
      const m = /BENCH-CPU ([\d.]+) ([\d.]+)/.exec(stderr)
      if (code !== 0 || !m || !expect(stdout))
        return rej(new Error(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${stdout.slice(0, 1000)}\n${stderr.slice(0, 2000)}`))
      res({wall, cpu: Number(m[1]) + Number(m[2])})
    })
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const stats = (rs: Run[]) => {
  const w = rs.map((r) => r.wall)
  return {median: median(w), min: Math.min(...w), max: Math.max(...w), cpu: median(rs.map((r) => r.cpu))}
}
const line = (label: string, s: ReturnType<typeof stats>) =>
  `  ${label.padEnd(50)} median ${s.median.toFixed(0).padStart(5)} ms  min ${s.min.toFixed(0).padStart(5)}  max ${s.max.toFixed(0).padStart(5)}  CPU ${s.cpu.toFixed(2)} s`

/** Writes the inputs of the start-up rows into `work`; returns the safe-deploy argument lists by row. */
async function fixtures(
  work: string,
): Promise<Array<{label: string; args: string[]; goal?: number; env?: NodeJS.ProcessEnv; expect: (out: string) => boolean}>> {
  writeFileSync(
    join(work, 'one-deployment.yaml'),
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: frontend\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: frontend}\n  template:\n    metadata:\n      labels: {app: frontend}\n    spec:\n      containers:\n        - name: app\n          image: ${IMAGE}\n`,
  )
  writeFileSync(
    join(work, 'pod.yaml'),
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: frontend\n  namespace: shop\nspec:\n  containers:\n    - name: app\n      image: ${IMAGE}\n`,
  )
  const a = makeAttestor(join(work, 'attestors'), join(work, 'keys'), 'bench-proj', 'built-by-ci')
  writeFileSync(join(work, 'policy.yaml'), requireAttestationPolicy([a.name]))
  mkdirSync(join(work, 'attestations'))
  const payload = buildSignaturePayload(IMAGE)
  const signature = await pemSigner(readFileSync(a.privateKeyFile, 'utf8'), a.algorithm, a.keyId).sign(payload)
  writeFileSync(
    join(work, 'attestations', 'built-by-ci.json'),
    JSON.stringify([buildOccurrence({imageWithDigest: IMAGE, noteName: a.note, payload, signature, keyId: a.keyId})]),
  )
  return [
    {label: 'safe-deploy --help', args: ['--help'], goal: 1.3, expect: (o) => o.includes('USAGE')},
    {label: 'safe-deploy pin --help', args: ['pin', '--help'], goal: 1.3, expect: (o) => o.includes('USAGE')},
    {label: 'safe-deploy pin -f one-deployment.yaml (pinned)', args: ['pin', '-f', 'one-deployment.yaml'], goal: 1.5, expect: (o) => o.includes(IMAGE)},
    // What a first run of a command pays, before its code cache exists (src/adapters/fs/code-cache.ts); no goal.
    {
      label: 'the same pin -f, without the code cache',
      args: ['pin', '-f', 'one-deployment.yaml'],
      env: {SAFE_DEPLOY_DISABLE_CODE_CACHE: '1'},
      expect: (o) => o.includes(IMAGE),
    },
    {
      label: 'safe-deploy preflight --no-resolve (1 Pod, 1 attestor)',
      args: ['preflight', '--no-resolve', '-f', 'pod.yaml', '--policy', 'policy.yaml', '--attestors', 'attestors', '--attestations', 'attestations', '--json'],
      goal: 1.5,
      expect: (o) => (JSON.parse(o) as {verdict: string}).verdict === 'ALLOW',
    },
  ]
}

/** One warm-up of each, then RUNS runs of a and b alternating (load on the shared machine falls on both alike). */
async function alternate(a: () => Promise<Run>, b: () => Promise<Run>): Promise<[ReturnType<typeof stats>, ReturnType<typeof stats>]> {
  await a()
  await b()
  const as: Run[] = []
  const bs: Run[] = []
  for (let i = 0; i < RUNS; i++) {
    as.push(await a())
    bs.push(await b())
  }
  return [stats(as), stats(bs)]
}

export async function startupRows(root: string): Promise<void> {
  const bin = join(root, 'bin/run.js')
  const work = mkdtempSync(join(tmpdir(), 'safe-deploy-startup-'))
  try {
    // No user configuration, kubeconfig or credentials reach either program; CI=1 as in the pipelines that run them.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: join(work, 'home'),
      XDG_STATE_HOME: join(work, 'state'),
      DOCKER_CONFIG: join(work, 'docker'),
      KUBECONFIG: join(work, 'no-kubeconfig'),
      NO_COLOR: '1',
      LANG: 'C.UTF-8',
      CI: '1',
    }
    mkdirSync(join(work, 'home'))
    const rows = await fixtures(work)
    console.log(`\nStart-up (no network), each row beside \`kubectl version --client\` in the same loop; ${RUNS} runs + 1 warm-up`)
    const kubectl = () => run('kubectl', ['version', '--client'], work, env, (o) => o.includes('Client Version'))
    for (const row of rows) {
      const sd = () => run(process.execPath, [bin, ...row.args], work, {...env, ...row.env}, row.expect)
      const [ks, ss] = await alternate(kubectl, sd)
      console.log(line(row.label, ss))
      console.log(line('kubectl version --client', ks))
      console.log(`  => ratio ${(ss.median / ks.median).toFixed(2)}x kubectl${row.goal === undefined ? '' : ` (goal <= ${row.goal}x)`}`)
    }
    await clientNodeRow(root, env)
  } finally {
    rmSync(work, {recursive: true, force: true})
  }
}

/** Row 4: a Node process that imports the bundle's client-node.cjs, beside one that imports the package. */
async function clientNodeRow(root: string, env: NodeJS.ProcessEnv): Promise<void> {
  const [chunk] = chunksHolding(readBundleMeta(root), '@kubernetes/client-node')
  if (!chunk) throw new Error('dist/bundle/meta.json: no chunk holds @kubernetes/client-node (npm run build:dist)')
  const load = (what: string) => () =>
    run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import module from 'node:module'; module.enableCompileCache(); await import(${JSON.stringify(what)}); console.log('loaded')`,
      ],
      root,
      env,
      (o) => o.includes('loaded'),
    )
  const bundled = load(pathToFileURL(join(root, chunk)).href)
  const unbundled = load('@kubernetes/client-node')
  const [bs, us] = await alternate(bundled, unbundled)
  console.log(`\nLoading the Kubernetes client (scan, the API applier), ${RUNS} runs + 1 warm-up each, alternating`)
  console.log(line("client-node, the bundle's client-node.cjs", bs))
  console.log(line('client-node from node_modules', us))
  console.log(`  => ${(us.cpu - bs.cpu).toFixed(2)} CPU-s and ${(us.median - bs.median).toFixed(0)} ms saved per process that loads it`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  startupRows(resolve(process.argv[2] ?? '.')).catch((err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    process.exit(1)
  })
}
