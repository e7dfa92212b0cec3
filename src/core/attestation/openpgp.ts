/**
 * openpgp is the largest library on the attestation paths and most attestors use PKIX keys: it is loaded on the
 * first PGP key or message met, never at start-up (docs/architecture.md#start-up).
 */
let loading: Promise<typeof import('openpgp')> | undefined

export function loadOpenpgp(): Promise<typeof import('openpgp')> {
  return (loading ??= import('openpgp'))
}
