/**
 * `npm run demo`: safe-deploy's main job on the bundled example (templates/example), end to end on
 * this machine: a real OCI registry (Debian docker-registry) on 127.0.0.1 stands in for Artifact
 * Registry and Docker Hub (through --registry-mirror), a freshly generated key is the CI attestor,
 * a local Kubernetes API test double (not a real apiserver) receives the server-side dry run, and a
 * local GKE API server (google.container.v1 over gRPC) answers the enforcement check.
 */
import {spawn} from 'node:child_process'
import {generateKeyPairSync} from 'node:crypto'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {startRegistry} from '../support/registry.js'
import {startKubeApiServer} from '../support/kube-apiserver.js'
import {makeAttestor} from '../support/trust.js'
import {startContainerServer} from '../support/gcp/grpc-servers.js'
import {drivePty} from '../support/pty.js'

const ROOT = resolve(process.argv[2] ?? '.')
const BIN = join(ROOT, 'bin/run.js')
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

let stepNumber = 0
const shown = (args: string[]): string => args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')

/** Run the CLI as a child process (asynchronously: the Kubernetes API double lives in this process). */
async function run(title: string, args: string[], cwd: string, expect: number[] = [0]): Promise<void> {
  process.stdout.write(`\n${bold(`### ${++stepNumber}. ${title}`)}\n${bold('$ safe-deploy ' + shown(args))}\n`)
  const child = spawn(process.execPath, [BIN, ...args], {cwd, stdio: ['ignore', 'inherit', 'inherit'], env: {...process.env, CI: '1', NO_COLOR: '1'}})
  const code = await new Promise<number>((res, rej) => {
    child.on('error', rej)
    child.on('close', (c) => res(c ?? -1))
  })
  process.stdout.write(`(exit ${code})\n`)
  if (!expect.includes(code)) throw new Error(`unexpected exit ${code} (expected ${expect.join(' or ')})`)
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'safe-deploy-demo-'))
  cpSync(join(ROOT, 'templates/example'), work, {recursive: true})
  mkdirSync(join(work, 'attestations'))
  const reg = await startRegistry()
  const kube = await startKubeApiServer()
  const gke = await startContainerServer()
  // The prod cluster enforces the project's policy (what `--binauthz-evaluation-mode=PROJECT_SINGLETON_POLICY_ENFORCE` sets).
  const CLUSTER = 'projects/acme-prod/locations/us-central1/clusters/prod'
  gke.state.clusters.set(CLUSTER, {binaryAuthorization: {evaluationMode: 'PROJECT_SINGLETON_POLICY_ENFORCE'}})
  try {
    // What CI would have pushed: the shop images, and redis from Docker Hub.
    await reg.pushImage('acme-prod/shop/frontend', '1.4.2', {platforms: ['linux/amd64', 'linux/arm64']})
    await reg.pushImage('acme-prod/shop/worker', '1.4.2')
    await reg.pushImage('library/redis', '7.2')
    makeAttestor(join(work, 'attestors'), join(work, 'keys'), 'acme-prod', 'built-by-ci')
    const kubeconfig = kube.writeKubeconfig(work, {context: 'demo-prod', namespace: 'shop'})
    const registry = ['--insecure-registry', reg.host, '--registry-mirror', `us-docker.pkg.dev=${reg.host}`, '--registry-mirror', `docker.io=${reg.host}`]
    const trust = ['--policy', 'policy.yaml', '--attestors', 'attestors', '--attestations', 'attestations', '--cluster', 'us-central1.prod']
    process.stdout.write(
      `safe-deploy demo in ${work}\nregistry ${reg.host} (mirror for us-docker.pkg.dev and docker.io); Kubernetes API test double at ${kube.url}; ` +
        `GKE API at ${gke.endpoint}\n`,
    )

    await run('Pin: every tag becomes tag@digest; nothing else in the file changes', ['pin', '-f', 'k8s/shop.yaml', ...registry], work)
    await run('Pre-flight before CI attested anything: denied, with the reason and the fix', ['preflight', '-f', 'k8s/', ...trust, ...registry], work, [5])
    for (const image of ['us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2', 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2']) {
      await run(
        `CI attests ${image.split('/').pop()} after its checks pass`,
        [
          'attest',
          '--image',
          image,
          '--attestor',
          'projects/acme-prod/attestors/built-by-ci',
          '--attestors',
          'attestors',
          '--private-key',
          'keys/built-by-ci.pem',
          '--output-dir',
          'attestations',
          ...registry,
        ],
        work,
      )
    }
    await run(
      'Pre-flight again: allowed, with a Markdown report for reviewers',
      ['preflight', '-f', 'k8s/', ...trust, ...registry, '--report-md', 'preflight.md'],
      work,
    )

    // cosign/Sigstore: signatures stored in the registry, required beside the policy. They go to one signatures
    // repository on the local registry (cosign's COSIGN_REPOSITORY): a mirror is read from, never pushed to.
    const cosign = generateKeyPairSync('ec', {namedCurve: 'P-256'})
    writeFileSync(join(work, 'keys/cosign.pem'), cosign.privateKey.export({type: 'pkcs8', format: 'pem'}))
    writeFileSync(join(work, 'keys/cosign.pub'), cosign.publicKey.export({type: 'spki', format: 'pem'}))
    const signatures = ['--sigstore-repository', `${reg.host}/acme-prod/signatures`]
    const signed = [...trust, ...registry, '--sigstore-key', 'keys/cosign.pub', ...signatures]
    const sign = (image: string): string[] => [
      'attest',
      '--sigstore',
      '--image',
      image,
      '--private-key',
      'keys/cosign.pem',
      '--sigstore-format',
      'legacy',
      ...signatures,
      ...registry,
    ]
    await run(
      'CI signs the frontend image the cosign way (the legacy .sig tag here; Sigstore bundles as OCI referrers are the default)',
      sign('us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2'),
      work,
    )
    await run('Pre-flight requiring cosign signatures too: the worker is not signed yet, so it is denied', ['preflight', '-f', 'k8s/', ...signed], work, [5])
    await run('CI signs the worker', sign('us-docker.pkg.dev/acme-prod/shop/worker:1.4.2'), work)
    await run('A reviewer signs redis, a third-party image (the requirement covers every image)', sign('docker.io/library/redis:7.2'), work)
    // The same pre-flight as a person sees it in a terminal: colour and progress (none of it when piped or in CI).
    const args = ['preflight', '-f', 'k8s/', ...signed]
    process.stdout.write(
      `\n${bold(`### ${++stepNumber}. The same pre-flight in a terminal (a pseudo-terminal: colour and progress)`)}\n${bold('$ safe-deploy ' + shown(args))}\n`,
    )
    const tty = await drivePty(args, {PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? work, LANG: 'C.UTF-8'}, [], false, {
      cwd: work,
      root: ROOT,
    })
    process.stdout.write(process.stdout.isTTY ? tty.raw : tty.output)
    process.stdout.write(`(exit ${tty.exitCode})\n`)
    if (tty.exitCode !== 0) throw new Error(`unexpected exit ${tty.exitCode} in the terminal run`)
    await run(
      'Apply (server-side dry run), requiring that the cluster enforces Binary Authorization; the decision goes to the audit log',
      [
        'apply',
        '-f',
        'k8s/',
        ...trust,
        ...registry,
        // The context is not named gke_…: --cluster (in `trust`) and --project name the cluster whose enforcement is read.
        '--project',
        'acme-prod',
        '--require-enforcement',
        '--container-endpoint',
        gke.endpoint,
        '--api-insecure',
        '--kubeconfig',
        kubeconfig,
        '--context',
        'demo-prod',
        '--dry-run=server',
        '--yes',
        '--audit-log',
        'audit.jsonl',
      ],
      work,
    )
    await run('The audit log', ['audit', '--audit-log', 'audit.jsonl'], work)
    const checked = gke.calls('GetCluster').map((c) => String(c.request.name))
    if (!checked.includes(CLUSTER)) throw new Error(`the enforcement of ${CLUSTER} was not checked (GKE API calls: ${checked.join(', ') || 'none'})`)
    const writes = kube.writes().length
    process.stdout.write(`\nGKE API: enforcement read for ${checked.join(', ')} (PROJECT_SINGLETON_POLICY_ENFORCE).\n`)
    process.stdout.write(`Kubernetes API double: ${kube.requests.length} request(s), ${writes} persisting write(s) (dry run).\n`)
    process.stdout.write(`\n${bold('The Markdown report for reviewers (preflight.md):')}\n\n${readFileSync(join(work, 'preflight.md'), 'utf8')}\n`)
  } finally {
    await gke.stop()
    await kube.stop()
    await reg.stop()
    rmSync(work, {recursive: true, force: true})
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
