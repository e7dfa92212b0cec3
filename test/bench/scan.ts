/**
 * `safe-deploy scan` benchmark (issue #15): 5,000 Pods in 200 namespaces (1,000 Deployments) running 300
 * unique digests, classic policy with two ECDSA attestors, attestations from a directory, against the
 * Kubernetes API test double. Reports wall time and peak RSS of the whole process (/usr/bin/time) and the
 * requests that reached the double (goal: list calls only, no per-Pod gets).
 * Run: npx tsc -p test/bench/tsconfig.json && node tmp/bench-build/test/bench/scan.js "$PWD"
 */
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {makeAttestor, requireAttestationPolicy} from '../support/trust.js'
import {objectKey, startKubeApiServer} from '../support/kube-apiserver.js'
import {pemSigner, buildOccurrence} from '../../src/core/attestation/sign.js'
import {buildSignaturePayload} from '../../src/core/attestation/payload.js'

const ROOT = resolve(process.argv[2] ?? '.')
const BIN = join(ROOT, 'bin/run.js')
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const NAMESPACES = 200
const DEPLOYMENTS_PER_NS = 5
const PODS_PER_DEPLOYMENT = 5
const DIGESTS = 300
const REPO = 'bench.example/team/app'

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((done, fail) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, BIN, ...args], {env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', fail)
    child.on('close', (code) => done({code: code ?? -1, stdout, stderr}))
  })
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sd-scan-bench-'))
  const digests = Array.from({length: DIGESTS}, (_, i) => 'sha256:' + createHash('sha256').update(`digest ${i}`).digest('hex'))
  const attestors = join(work, 'attestors')
  const atts = join(work, 'attestations')
  mkdirSync(atts, {recursive: true})
  const a1 = makeAttestor(attestors, join(work, 'keys'), 'bench', 'built-by-ci')
  const a2 = makeAttestor(attestors, join(work, 'keys'), 'bench', 'scanned')
  writeFileSync(join(work, 'policy.yaml'), requireAttestationPolicy([a1.name, a2.name]))
  for (const a of [a1, a2]) {
    const signer = pemSigner(readFileSync(a.privateKeyFile, 'utf8'), a.algorithm, a.keyId)
    const occs = []
    for (const d of digests) {
      const image = `${REPO}@${d}`
      const payload = buildSignaturePayload(image)
      occs.push(buildOccurrence({imageWithDigest: image, noteName: a.note, payload, signature: await signer.sign(payload), keyId: a.keyId}))
    }
    writeFileSync(join(atts, `${a.name.split('/').pop()}.json`), JSON.stringify(occs))
  }

  const kube = await startKubeApiServer()
  let deployment = 0
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `team-${n}`
    for (let d = 0; d < DEPLOYMENTS_PER_NS; d++, deployment++) {
      const digest = digests[deployment % DIGESTS] as string
      const rs = `svc-${d}-6c9f`
      kube.objects.set(objectKey('replicasets', ns, rs), {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: rs,
          namespace: ns,
          ownerReferences: [{apiVersion: 'apps/v1', kind: 'Deployment', name: `svc-${d}`, uid: `u-${ns}-${d}`, controller: true}],
        },
      })
      for (let p = 0; p < PODS_PER_DEPLOYMENT; p++)
        kube.objects.set(objectKey('pods', ns, `${rs}-${p}`), {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${rs}-${p}`,
            namespace: ns,
            creationTimestamp: '2026-11-27T00:00:00Z',
            labels: {app: `svc-${d}`},
            ownerReferences: [{apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: `u-${ns}-${rs}`, controller: true}],
          },
          spec: {serviceAccountName: 'default', containers: [{name: 'app', image: `${REPO}@${digest}`}]},
          status: {
            phase: 'Running',
            containerStatuses: [{name: 'app', image: `${REPO}@${digest}`, imageID: `${REPO}@${digest}`, ready: true, restartCount: 0}],
          },
        })
    }
  }
  const kubeconfig = kube.writeKubeconfig(join(work, 'kube'))
  const env = {PATH: process.env.PATH ?? '', HOME: work, NO_COLOR: '1'}
  console.log(`scan -A: ${deployment * PODS_PER_DEPLOYMENT} Pods, ${NAMESPACES} namespaces, ${deployment} Deployments, ${DIGESTS} digests, 2 attestors`)
  try {
    for (let r = 0; r < RUNS; r++) {
      kube.clearRequests()
      const res = await run(
        ['scan', '-A', '--kubeconfig', kubeconfig, '--policy', join(work, 'policy.yaml'), '--attestors', attestors, '--attestations', atts, '--json'],
        env,
      )
      const m = /BENCH ([\d.]+) (\d+)/.exec(res.stderr)
      if (res.code !== 0 || !m) throw new Error(`scan failed (exit ${res.code}): ${res.stderr.slice(0, 2000)}`)
      const doc = JSON.parse(res.stdout) as {verdict: string; pods: number; digests: number; findings: unknown[]}
      const byKind = new Map<string, number>()
      for (const q of kube.requests) {
        const k = `${q.method} ${q.path}${q.query.limit ? ' (limit)' : ''}`
        byKind.set(k, (byKind.get(k) ?? 0) + 1)
      }
      console.log(
        `  run ${r + 1}: wall ${m[1]} s (goal <= 3 s), peak RSS ${(Number(m[2]) / 1024).toFixed(0)} MB (goal <= 300 MB); ${doc.verdict}, ${doc.pods} Pods, ${doc.digests} digests, ${doc.findings.length} findings; requests: ${[...byKind.entries()].map(([k, n]) => `${n}× ${k}`).join(', ')}`,
      )
    }
  } finally {
    await kube.stop()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
