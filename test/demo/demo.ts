/**
 * `npm run demo`: safe-deploy's main job on the bundled example (templates/example), end to end on
 * this machine: a real OCI registry (Debian docker-registry) on 127.0.0.1 stands in for Artifact
 * Registry and Docker Hub (through --registry-mirror), a freshly generated key is the CI attestor,
 * a local Kubernetes API test double (not a real apiserver) receives the server-side dry run, and a
 * local GKE API server (google.container.v1 over gRPC) answers the enforcement check.
 */
import {spawn} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {startRegistry} from '../support/registry.js'
import {startKubeApiServer} from '../support/kube-apiserver.js'
import {makeAttestor} from '../support/trust.js'
import {startContainerServer} from '../support/gcp/grpc-servers.js'

const ROOT = resolve(process.argv[2] ?? '.')
const BIN = join(ROOT, 'bin/run.js')
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)

/** Run the CLI as a child process (asynchronously: the Kubernetes API double lives in this process). */
async function run(title: string, args: string[], cwd: string, expect: number[] = [0]): Promise<void> {
  process.stdout.write(`\n${bold('### ' + title)}\n${bold('$ safe-deploy ' + args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' '))}\n`)
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

    await run('1. Pin: every tag becomes tag@digest; nothing else in the file changes', ['pin', '-f', 'k8s/shop.yaml', ...registry], work)
    await run('2. Pre-flight before CI attested anything: denied, with the reason and the fix', ['preflight', '-f', 'k8s/', ...trust, ...registry], work, [5])
    for (const image of ['us-docker.pkg.dev/acme-prod/shop/frontend:1.4.2', 'us-docker.pkg.dev/acme-prod/shop/worker:1.4.2']) {
      await run(
        `3. CI attests ${image.split('/').pop()} after its checks pass`,
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
      '4. Pre-flight again: allowed, with a Markdown report for reviewers',
      ['preflight', '-f', 'k8s/', ...trust, ...registry, '--report-md', 'preflight.md'],
      work,
    )
    await run(
      '5. Apply (server-side dry run), requiring that the cluster enforces Binary Authorization; the decision goes to the audit log',
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
    await run('6. The audit log', ['audit', '--audit-log', 'audit.jsonl'], work)
    const checked = gke.calls('GetCluster').map((c) => String(c.request.name))
    if (!checked.includes(CLUSTER)) throw new Error(`the enforcement of ${CLUSTER} was not checked (GKE API calls: ${checked.join(', ') || 'none'})`)
    const writes = kube.writes().length
    process.stdout.write(`\nGKE API: enforcement read for ${checked.join(', ')} (PROJECT_SINGLETON_POLICY_ENFORCE).\n`)
    process.stdout.write(`Kubernetes API double: ${kube.requests.length} request(s), ${writes} persisting write(s) (dry run).\n`)
    process.stdout.write(`Report for reviewers: ${join(work, 'preflight.md')} (${readFileSync(join(work, 'preflight.md'), 'utf8').split('\n').length} lines)\n`)
  } finally {
    await gke.stop()
    await kube.stop()
    await reg.stop()
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
