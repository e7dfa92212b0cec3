/**
 * safe-deploy's programmatic API for Node users and CD systems: the pure core and the ports,
 * without oclif. Trust material is passed in as values (design habit 1).
 *
 *   import {parseReference, SafeDeployError} from 'safe-deploy'
 */
export * from './core/errors.js'
export * from './core/reference/index.js'
export {parseManifest, decodeUtf8, type ManifestFile, type ManifestDocument} from './core/manifest/parse.js'
export {locateImages, locateAll, type Located} from './core/manifest/locate.js'
export {unexaminedWarning, imageRulesSnippet} from './core/manifest/unexamined.js'
export {rewriteImages} from './core/manifest/rewrite.js'
export {classifyImageValue} from './core/manifest/classify.js'
export type {ImageSite, CustomImageRule, UnexaminedValue} from './core/manifest/types.js'
export {pinSites, type PinResult, type PinnedSite} from './core/pin.js'
export {LockResolver, parseLockObject, parseLockText, type LockFile, type LockEntry} from './core/lock.js'
export {parsePolicyText, parsePolicyObject, parseSystemPolicyText} from './core/policy/parse.js'
export {evaluatePolicy, explainRule, type Verdict, type ImageVerdict} from './core/policy/evaluate.js'
export {matchPattern, validatePattern, SYSTEM_ALLOWLIST} from './core/policy/allowlist.js'
export type {Policy, AdmissionRule} from './core/policy/types.js'
export {buildSignaturePayload, parsePayload} from './core/attestation/payload.js'
export {parseAttestor, parseOccurrences} from './core/attestation/parse.js'
export {checkAttestor, type AttestorCheck} from './core/attestation/verify.js'
export {pemSigner, pgpSigner, kmsSigner, buildOccurrence, type Signer} from './core/attestation/sign.js'
export {defaultPkixKeyId, kmsKeyId, pgpFingerprint} from './core/attestation/keys.js'
export type {Attestor, AttestationOccurrence} from './core/attestation/types.js'
export {
  attestationFactsNeeded,
  evaluatePreflight,
  exitForPreflight,
  factKey,
  type AttestationFacts,
  type PreflightPlan,
  type PreflightResult,
  type Target,
  type PlanImage,
} from './core/preflight.js'
export {lintPolicy, type Finding, type LintResult} from './core/policy/lint.js'
export type * from './core/ports.js'
