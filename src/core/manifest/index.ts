/** core/manifest: parse manifests, find image fields, rewrite them in place. */
export {parseManifest, decodeUtf8, MAX_ALIAS_COUNT} from './parse.js'
export {locateImages, locateAll, formatPath, parseRulePath, rulePathFor, apiGroup, type Located} from './locate.js'
export {unexaminedWarning, unexaminedError, imageRulesSnippet, ruleSnippet} from './unexamined.js'
export {classifyImageValue, unpinnableError} from './classify.js'
export {rewriteImages, rewriteText, isPlainSafe, type ImageReplacement} from './rewrite.js'
export type {ImageSite, ScalarType, CustomImageRule, ManifestFile, ManifestDocument, ImageValueClass, UnexaminedValue} from './types.js'
export {
  scanManifest,
  scanOutcome,
  scanPart,
  finishScan,
  fileTraits,
  splitAtDocuments,
  DOCUMENTS_PER_CHUNK,
  type ScanResult,
  type ScanPart,
  type ScanOutcome,
} from './scan.js'
