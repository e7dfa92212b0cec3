/** Attestors, attestation payloads, verification and signing (docs/binauthz.md#attestors, docs/binauthz.md#signature-verification). */
export * from './types.js'
export * from './keys.js'
export * from './payload.js'
export * from './parse.js'
export * from './verify.js'
export * from './sign.js'
