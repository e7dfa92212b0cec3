/** Attestors, attestation payloads, verification and signing (binauthz-spec.md §4, §5). */
export * from './types.js'
export * from './keys.js'
export * from './payload.js'
export * from './parse.js'
export * from './verify.js'
export * from './sign.js'
