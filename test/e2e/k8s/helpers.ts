/** Shared by the k8s adapter suites; manifests and temp directories come from test/support/fixtures.ts. */
export const DIGEST_A = 'sha256:' + 'a'.repeat(64)
export const DIGEST_B = 'sha256:' + 'b'.repeat(64)

export const join3 = (...docs: string[]): string => docs.join('---\n')
