/**
 * Evidence files (docs/evidence.md), the figures of issue #14:
 *   1. evaluation from an evidence file: 1,000 images × a platform policy of 4 check sets with 3 checks each (trusted
 *      directory, an ECDSA-signed attestation, a vulnerability scan): parse + facts needed + facts from the file +
 *      evaluation, CPU time (goal ≤ 1 s);
 *   2. `evidence collect` of 200 tagged images against the local registry and the local Container Analysis server:
 *      wall time, and requests per image (registry requests counted by a pass-through proxy, Grafeas calls by the server).
 * Everything runs on 127.0.0.1. BENCH_RUNS sets the repeat count of (1).
 */
import {spawn} from 'node:child_process'
import {generateKeyPairSync, sign} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {buildSignaturePayload} from '../../src/core/attestation/payload.js'
import {defaultPkixKeyId} from '../../src/core/attestation/keys.js'
import {attestationOccurrenceJson, evidencePlatformFactPorts, parseEvidenceText, type EvidenceDocument} from '../../src/core/evidence.js'
import {evaluatePlatformPolicy, platformFactsNeeded} from '../../src/core/platform-policy/evaluate.js'
import {parsePlatformPolicyText} from '../../src/core/platform-policy/parse.js'
import type {PodToEvaluate} from '../../src/core/platform-policy/types.js'
import {gatherPlatformFacts} from '../../src/app/platform-facts.js'
import {startRegistry} from '../support/registry.js'
import {startFaultProxy} from '../support/fault-proxy.js'
import {startGrafeasServer} from '../support/gcp/grpc-servers.js'

const ROOT = resolve(process.argv[2] ?? '.')
const BIN = join(ROOT, 'bin/run.js')
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const hex = (i: number) => i.toString(16).padStart(64, '0')

const {publicKey, privateKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
const pem = publicKey.export({type: 'spki', format: 'pem'}).toString()
const keyId = defaultPkixKeyId(pem)
const pemBlock = pem
  .trim()
  .split('\n')
  .map((l) => ' '.repeat(16) + l)
  .join('\n')

function checkSet(i: number, scope: string): string {
  return `  - displayName: set ${i}
${scope}    checks:
    - trustedDirectoryCheck: {trustedDirPatterns: [us-docker.pkg.dev/acme/team${i}]}
    - simpleSigningAttestationCheck:
        containerAnalysisAttestationProjects: [projects/att${i}]
        attestationAuthenticators:
        - pkixPublicKeySet:
            pkixPublicKeys:
            - signatureAlgorithm: ECDSA_P256_SHA256
              publicKeyPem: |
${pemBlock}
    - vulnerabilityCheck: {maximumFixableSeverity: HIGH, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: [projects/vuln]}
`
}

async function evaluationBench(): Promise<void> {
  const policyText =
    'gkePolicy:\n  checkSets:\n' +
    checkSet(0, '    scope: {kubernetesServiceAccount: "ns0:sa0"}\n') +
    checkSet(1, '    scope: {kubernetesNamespace: ns1}\n') +
    checkSet(2, '    scope: {kubernetesNamespace: ns2}\n') +
    checkSet(3, '')
  const images: EvidenceDocument['images'] = {}
  const pods: PodToEvaluate[] = []
  for (let i = 0; i < 1000; i++) {
    const set = i % 4
    const name = `us-docker.pkg.dev/acme/team${set}/app${i}`
    const digest = `sha256:${hex(i + 1)}`
    const payload = buildSignaturePayload(`${name}@${digest}`)
    const occ = {
      name: `projects/att${set}/occurrences/a${i}`,
      resourceUri: `https://${name}@${digest}`,
      noteName: `projects/att${set}/notes/qa`,
      serializedPayload: payload,
      signatures: [{publicKeyId: keyId, signature: new Uint8Array(sign('sha256', payload, {key: privateKey, dsaEncoding: 'der'}))}],
      jwts: [],
      source: 'bench',
    }
    images[`${name}:1.0`] = {
      digest,
      occurrences: [
        attestationOccurrenceJson(occ),
        {
          name: `projects/vuln/occurrences/d${i}`,
          kind: 'DISCOVERY',
          resourceUri: `https://${name}@${digest}`,
          noteName: 'projects/goog-analysis/notes/PACKAGE_VULNERABILITY',
          discovery: {analysisStatus: 'FINISHED_SUCCESS'},
        },
        {
          name: `projects/vuln/occurrences/v${i}`,
          kind: 'VULNERABILITY',
          resourceUri: `https://${name}@${digest}`,
          noteName: 'projects/goog-vulnz/notes/CVE-2026-1',
          vulnerability: {effectiveSeverity: 'LOW', fixAvailable: true},
        },
      ],
    }
    pods.push({name: `Deployment/app${i}`, namespace: `ns${set}`, serviceAccount: `sa${set}`, images: [{image: `${name}:1.0`, digest, container: 'app'}]})
  }
  const text = JSON.stringify({apiVersion: 'safe-deploy.dev/v1', kind: 'Evidence', collectedAt: '2026-11-27T12:00:00Z', images} satisfies EvidenceDocument)
  const cpu: number[] = []
  let verdict = ''
  for (let r = 0; r < RUNS; r++) {
    const start = process.cpuUsage()
    const policy = parsePlatformPolicyText(policyText, 'bench.yaml')
    const e = parseEvidenceText(text, 'evidence.json')
    // The replay's ports are values behind promises: the CPU measured is the evaluation's own (runs one after another).
    const facts = await gatherPlatformFacts(platformFactsNeeded(policy, pods), evidencePlatformFactPorts(e))
    verdict = evaluatePlatformPolicy(policy, pods, facts, {now: e.collectedAt}).verdict
    const used = process.cpuUsage(start)
    cpu.push((used.user + used.system) / 1000)
  }
  const sorted = [...cpu].sort((a, b) => a - b)
  console.log(
    `evaluation from evidence, 1,000 images × 4 check sets × 3 checks (${(text.length / 1e6).toFixed(1)} MB file): verdict ${verdict}; CPU median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} ms (runs: ${cpu.map((c) => c.toFixed(0)).join(', ')})`,
  )
}

async function collectBench(): Promise<void> {
  const reg = await startRegistry()
  const grafeas = await startGrafeasServer()
  const proxy = await startFaultProxy(reg.host)
  try {
    const work = mkdtempSync(join(tmpdir(), 'sd-bench-evidence-'))
    const tags = await reg.pushManyTags('bench/ev', 200, 't')
    const docs = [...tags.keys()].map(
      (t, i) =>
        `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d${i}, namespace: shop}\nspec:\n  selector: {matchLabels: {app: d${i}}}\n  template:\n    metadata: {labels: {app: d${i}}}\n    spec:\n      containers:\n      - name: app\n        image: ${proxy.host}/bench/ev:${t}\n`,
    )
    const manifest = join(work, 'k8s.yaml')
    writeFileSync(manifest, docs.join('---\n'))
    const policy = join(work, 'platform.yaml')
    writeFileSync(
      policy,
      `gkePolicy:\n  checkSets:\n  - checks:\n    - simpleSigningAttestationCheck:\n        containerAnalysisAttestationProjects: [projects/att]\n        attestationAuthenticators:\n        - pkixPublicKeySet:\n            pkixPublicKeys:\n            - signatureAlgorithm: ECDSA_P256_SHA256\n              publicKeyPem: |\n${pemBlock}\n    - vulnerabilityCheck: {maximumFixableSeverity: HIGH, maximumUnfixableSeverity: HIGH, containerAnalysisVulnerabilityProjects: [projects/vuln]}\n`,
    )
    const out = join(work, 'evidence.json')
    const args = [
      BIN,
      'evidence',
      'collect',
      '-f',
      manifest,
      '--platform-policy',
      policy,
      '--containeranalysis-endpoint',
      grafeas.endpoint,
      '--api-insecure',
      '--insecure-registry',
      proxy.host,
      '-o',
      out,
    ]
    proxy.requests.length = 0
    grafeas.requests.length = 0
    const t0 = process.hrtime.bigint()
    // Asynchronous: the registry proxy and the Grafeas server answer from this process's event loop.
    const child = spawn(process.execPath, args, {env: {...process.env, GCE_METADATA_HOST: '127.0.0.1:9', NO_COLOR: '1'}})
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const status = await new Promise<number | null>((done) => child.on('close', done))
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (status !== 0) throw new Error(`evidence collect failed: ${stderr}`)
    const size = readFileSync(out).length
    console.log(
      `evidence collect, 200 tagged images, attestation + vulnerability checks: ${ms.toFixed(0)} ms wall; registry requests ${proxy.requests.length} (${(proxy.requests.length / 200).toFixed(2)}/image), Container Analysis calls ${grafeas.requests.length} (${(grafeas.requests.length / 200).toFixed(2)}/image); file ${(size / 1024).toFixed(0)} KiB`,
    )
  } finally {
    await proxy.stop()
    await grafeas.stop()
    await reg.stop()
  }
}

await evaluationBench()
await collectBench()
