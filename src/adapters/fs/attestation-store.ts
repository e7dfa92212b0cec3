/** The --output-dir attestation store: occurrence JSON files that `preflight --attestations DIR` reads. */
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {parseOccurrences} from '../../core/attestation/parse.js'
import type {AttestationStore, NewAttestation} from '../../core/ports.js'
import {writeFileAtomic} from './atomic.js'
import {fileExists, listDirectory, readTextFile} from './files.js'

/** --output-dir: one JSON file per note, digest and key id (what `preflight --attestations DIR` reads). */
export function directoryStore(dir: string): AttestationStore {
  return {
    store: async (a) => {
      const h = createHash('sha256').update(`${a.noteName}\n${a.digest}\n${a.keyId}`).digest('hex').slice(0, 16)
      const path = join(dir, `attestation-${a.digest.slice(7, 19)}-${h}.json`)
      const created = !existingEquivalent(dir, a)
      if (created) await writeFileAtomic(path, JSON.stringify(a.occurrence, null, 2) + '\n')
      return {stored: {kind: 'directory', path}, created}
    },
  }
}

/** Idempotency for --output-dir: an occurrence on the same note, digest and key id already there. */
function existingEquivalent(dir: string, a: NewAttestation): boolean {
  if (!fileExists(dir)) return false
  for (const f of listDirectory(dir).filter((x) => x.endsWith('.json'))) {
    try {
      const occs = parseOccurrences(JSON.parse(readTextFile(join(dir, f), 'attestation')), f)
      if (occs.some((o) => o.noteName === a.noteName && o.resourceUri.endsWith(a.digest) && o.signatures.some((s) => s.publicKeyId === a.keyId))) return true
    } catch {
      // not ours; ignore
    }
  }
  return false
}
