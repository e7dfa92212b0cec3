/** Google Cloud adapters. Importing this module loads no @google-cloud package (they load lazily). */
export * from './common.js'
export {BinauthzApi, BINAUTHZ_DEFAULT_BASE_URL, type BinauthzOptions, type ValidateAttestationRequest, type ValidationResult} from './binauthz.js'
export * from './containeranalysis.js'
export * from './kms.js'
export * from './cloudrun.js'
export * from './gke.js'
export * from './artifactregistry.js'
export {crc32c} from './crc32c.js'
