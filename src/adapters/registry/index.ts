/** The registry adapter: tag → digest over the OCI distribution API (implements the DigestResolver port). */
export {RegistryResolver, type RegistryMirror, type RegistryResolverOptions} from './resolver.js'
export {MANIFEST_ACCEPT, MEDIA_TYPES, parsePlatform, formatPlatform, type Platform} from './media.js'
export {isGoogleHost} from './credentials.js'
