import {describe, expect, it} from '@jest/globals'
import {createHash, generateKeyPairSync} from 'node:crypto'
import {parseOccurrences} from '../../../../src/core/attestation/parse.js'
import {buildSignaturePayload} from '../../../../src/core/attestation/payload.js'
import {buildOccurrence, pemSigner} from '../../../../src/core/attestation/sign.js'
import type {AttestationOccurrence, Attestor} from '../../../../src/core/attestation/types.js'
import {checkAttestor} from '../../../../src/core/attestation/verify.js'

describe('performance', () => {
  it('pre-flight of 1,000 images × 2 ECDSA attestors takes ≤ 1 s CPU', async () => {
    const attestors: Attestor[] = []
    const signers = []
    for (const n of [1, 2]) {
      const k = generateKeyPairSync('ec', {
        namedCurve: 'P-256',
        publicKeyEncoding: {type: 'spki', format: 'pem'},
        privateKeyEncoding: {type: 'pkcs8', format: 'pem'},
      })
      const signer = pemSigner(k.privateKey, 'ECDSA_P256_SHA256')
      signers.push(signer)
      // Each check gets a fresh copy of the attestor key object (as if re-read): the PEM-keyed cache must still hit.
      attestors.push({
        name: `projects/p/attestors/a${n}`,
        noteReference: `projects/p/notes/n${n}`,
        source: 'perf',
        publicKeys: [{kind: 'pkix', id: signer.keyId, publicKeyPem: k.publicKey, signatureAlgorithm: 'ECDSA_P256_SHA256'}],
      })
    }
    const images: Array<{digest: string; occs: AttestationOccurrence[][]}> = []
    for (let i = 0; i < 1000; i++) {
      const digest = 'sha256:' + createHash('sha256').update(String(i)).digest('hex')
      const image = `us-docker.pkg.dev/p/r/app${i}@${digest}`
      const payload = buildSignaturePayload(image)
      const occs = await Promise.all(
        signers.map(async (s, n) =>
          parseOccurrences(
            [buildOccurrence({imageWithDigest: image, noteName: `projects/p/notes/n${n + 1}`, payload, signature: await s.sign(payload), keyId: s.keyId})],
            'perf',
          ),
        ),
      )
      images.push({digest, occs})
    }
    const start = process.cpuUsage()
    const t0 = performance.now()
    let satisfied = 0
    for (const img of images) {
      for (let n = 0; n < 2; n++) {
        const a = attestors[n]!
        const r = await checkAttestor({...a, publicKeys: a.publicKeys.map((k) => ({...k}))}, img.occs[n]!, img.digest)
        if (r.satisfied) satisfied++
      }
    }
    const cpu = process.cpuUsage(start)
    const cpuMs = (cpu.user + cpu.system) / 1000
    const wallMs = performance.now() - t0
    console.log(`perf: 2000 attestor checks (1000 images × 2 P-256 attestors): ${cpuMs.toFixed(0)} ms CPU, ${wallMs.toFixed(0)} ms wall`)
    expect(satisfied).toBe(2000)
    expect(cpuMs).toBeLessThanOrEqual(1000)
  }, 60_000)
})
