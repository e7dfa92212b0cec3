/**
 * Gather the attestation facts a pre-flight needs (docs/architecture.md#facts-then-evaluation): each
 * attestor named by a needed check is read once, the occurrences for each (note, digest) listed once,
 * and the signatures verified with the same code `attest` uses before it stores anything. What could
 * not be read throws (SafeDeployError from the port): the caller reports "could not check", never
 * "allowed".
 */
import {checkAttestor} from '../core/attestation/verify.js'
import {factKey, type AttestationCheck, type AttestationFacts} from '../core/preflight.js'
import type {Attestor} from '../core/attestation/types.js'
import type {AttestationSource, AttestorSource} from '../core/ports.js'
import type {AttestorOutcome} from '../core/policy/evaluate.js'
import {settleAll} from '../core/settle.js'

export interface AttestationFactPorts {
  attestors: AttestorSource
  attestations: AttestationSource
}

export async function gatherAttestationFacts(
  needed: readonly AttestationCheck[],
  ports: AttestationFactPorts,
  opts: {now?: Date; onChecked?: () => void} = {},
): Promise<AttestationFacts> {
  const attestors = new Map<string, Promise<Attestor>>()
  const attestor = (name: string): Promise<Attestor> => {
    let p = attestors.get(name)
    if (p === undefined) {
      p = ports.attestors.getAttestor(name)
      attestors.set(name, p)
    }
    return p
  }
  const facts = new Map<string, AttestorOutcome>()
  // settleAll, not Promise.all: the caller closes the ports when this fails, so no call may still be running.
  await settleAll(
    needed.map(async ({attestor: name, digest}) => {
      const a = await attestor(name)
      const occurrences = await ports.attestations.listAttestations({noteName: a.noteReference, digest})
      const checked = await checkAttestor(a, occurrences, digest, opts.now ? {now: opts.now} : {})
      facts.set(factKey(name, digest), {satisfied: checked.satisfied, reason: checked.reason, details: checked})
      opts.onChecked?.()
    }),
  )
  return facts
}
