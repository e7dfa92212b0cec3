/**
 * REST JSON → core model for the Binary Authorization adapter. The strict validation lives in
 * core (one parser for files and the API); this module only picks the right entry point.
 */
import type {Attestor} from '../../core/attestation/types.js'
import {parseAttestor} from '../../core/attestation/parse.js'
import {parsePolicyObject} from '../../core/policy/parse.js'
import type {Policy} from '../../core/policy/types.js'

/** REST v1 Policy JSON → Policy. `source` is e.g. `projects/P/policy`. */
export function policyFromJson(json: unknown, source: string, options: {systemPolicy?: boolean} = {}): Policy {
  return parsePolicyObject(json, source, options)
}

/** REST v1 (userOwnedGrafeasNote) or v1beta1 (userOwnedDrydockNote) Attestor JSON → Attestor. */
export function attestorFromJson(json: unknown, source: string): Attestor {
  return parseAttestor(json, source)
}
