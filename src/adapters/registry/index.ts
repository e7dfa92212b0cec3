/**
 * The registry adapter over the OCI distribution API: tag → digest (the DigestResolver port), cosign
 * signatures read (the SignatureSource port) and pushed, all through one RegistryClient.
 */
export {RegistryResolver, type RegistryMirror, type RegistryResolverOptions} from './resolver.js'
export {RegistryClient, type RegistryClientOptions} from './client.js'
export {RegistrySignatureSource, MAX_BLOB_BYTES, MAX_ENTRIES, MAX_MANIFEST_BYTES} from './signatures.js'
export {RegistrySignatureWriter, type BundleReferrerPush, type LegacySignaturePush, type PushResult} from './signature-writer.js'
export {MANIFEST_ACCEPT, MEDIA_TYPES, parsePlatform, formatPlatform, type Platform} from './media.js'
export {isGoogleHost} from './credentials.js'
