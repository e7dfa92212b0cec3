/**
 * Fuzz the policy parser (src/core/policy/parse.ts): arbitrary objects and strings give a Policy
 * or SafeDeployError POLICY_INVALID / INVALID_INPUT, never another exception; a valid policy
 * survives stringify (YAML and JSON) → parse unchanged.
 */
import {afterAll, describe, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {stringify} from 'yaml'
import {SafeDeployError} from '../../src/core/errors.js'
import {parsePolicyObject, parsePolicyText} from '../../src/core/policy/parse.js'
import type {AdmissionRule, Policy} from '../../src/core/policy/types.js'
import {FUZZ_TIMEOUT_MS, makeTally} from './runner.js'
import {validReference} from './arbitraries.js'

const tally = makeTally('policy')
afterAll(() => tally.report())

const ALLOWED = new Set(['POLICY_INVALID', 'INVALID_INPUT'])
function parseOrRefuse(f: () => Policy): Policy | undefined {
  try {
    return f()
  } catch (e) {
    if (e instanceof SafeDeployError && ALLOWED.has(e.code)) return undefined
    throw e
  }
}

const lower = fc.string({unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 1, maxLength: 8})
const project = lower.map((s) => `p${s}`)
const attestorName = fc.tuple(project, lower).map(([p, a]) => `projects/${p}/attestors/a${a}`)
const evaluationMode = fc.constantFrom('ALWAYS_ALLOW', 'REQUIRE_ATTESTATION', 'ALWAYS_DENY')
const enforcementMode = fc.constantFrom('ENFORCED_BLOCK_AND_AUDIT_LOG', 'DRYRUN_AUDIT_LOG_ONLY')
const rule = fc.tuple(evaluationMode, enforcementMode, fc.uniqueArray(attestorName, {minLength: 1, maxLength: 3})).map(([ev, en, by]) => ({
  evaluationMode: ev,
  enforcementMode: en,
  ...(ev === 'REQUIRE_ATTESTATION' ? {requireAttestationsBy: by} : {}),
}))
const scopedKey = {
  clusterAdmissionRules: fc.tuple(lower, lower).map(([l, n]) => `${l}.${n}`),
  kubernetesNamespaceAdmissionRules: lower,
  kubernetesServiceAccountAdmissionRules: fc.tuple(lower, lower).map(([n, s]) => `${n}:${s}`),
  istioServiceIdentityAdmissionRules: fc.tuple(lower, lower, lower).map(([d, n, s]) => `spiffe://${d}.example/ns/${n}/sa/${s}`),
} as const
const pattern = fc.tuple(validReference, fc.constantFrom('', '*', '**')).map(([r, s]) => (s === '' ? r : `${r.replace(/[@:].*$/, '')}/${s}`))
/** A policy object as the REST API / gcloud export writes it; at most one scoped rule map (v1). */
export const validPolicyObject = fc
  .record({
    name: fc.option(
      project.map((p) => `projects/${p}/policy`),
      {nil: undefined},
    ),
    description: fc.option(fc.string({maxLength: 40}), {nil: undefined}),
    globalPolicyEvaluationMode: fc.option(fc.constantFrom('ENABLE', 'DISABLE', 'GLOBAL_POLICY_EVALUATION_MODE_UNSPECIFIED'), {nil: undefined}),
    admissionWhitelistPatterns: fc.option(
      fc.array(
        pattern.map((namePattern) => ({namePattern})),
        {maxLength: 4},
      ),
      {nil: undefined},
    ),
    scoped: fc.option(
      fc
        .constantFrom(...(Object.keys(scopedKey) as Array<keyof typeof scopedKey>))
        .chain((field) => fc.dictionary(scopedKey[field], rule, {maxKeys: 3}).map((rules) => ({field, rules}))),
      {nil: undefined},
    ),
    defaultAdmissionRule: rule,
  })
  .map(({scoped, ...p}) => {
    const o: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(p)) if (v !== undefined) o[k] = v
    if (scoped) o[scoped.field] = scoped.rules
    return o
  })

/** The model without provenance (source, lines, notes), for comparing two parses. */
function comparable(p: Policy): unknown {
  const rule = (r: AdmissionRule) => ({evaluationMode: r.evaluationMode, enforcementMode: r.enforcementMode, requireAttestationsBy: r.requireAttestationsBy})
  const rules = (m: Record<string, AdmissionRule>) => Object.fromEntries(Object.entries(m).map(([k, r]) => [k, rule(r)]))
  return {
    name: p.name,
    project: p.project,
    description: p.description,
    etag: p.etag,
    updateTime: p.updateTime,
    globalPolicyEvaluationMode: p.globalPolicyEvaluationMode,
    admissionWhitelistPatterns: p.admissionWhitelistPatterns.map((x) => x.namePattern),
    clusterAdmissionRules: rules(p.clusterAdmissionRules),
    kubernetesNamespaceAdmissionRules: rules(p.kubernetesNamespaceAdmissionRules),
    kubernetesServiceAccountAdmissionRules: rules(p.kubernetesServiceAccountAdmissionRules),
    istioServiceIdentityAdmissionRules: rules(p.istioServiceIdentityAdmissionRules),
    defaultAdmissionRule: rule(p.defaultAdmissionRule),
  }
}
/** A parsed Policy back to its REST form. */
function toRest(p: Policy): Record<string, unknown> {
  const c = comparable(p) as Record<string, unknown>
  const o: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined || k === 'project') continue
    if (k === 'admissionWhitelistPatterns') o[k] = (v as string[]).map((namePattern) => ({namePattern}))
    else if (typeof v === 'object' && v !== null && Object.keys(v).length === 0) continue
    else o[k] = v
  }
  return o
}

/** Policy-shaped objects with random values in random places (mostly invalid). */
const mangledPolicy = fc
  .tuple(
    validPolicyObject,
    fc.constantFrom(
      'name',
      'globalPolicyEvaluationMode',
      'admissionWhitelistPatterns',
      'defaultAdmissionRule',
      'clusterAdmissionRules',
      'kubernetesNamespaceAdmissionRules',
      'extra',
      'defaultAdmissionRule.evaluationMode',
      'defaultAdmissionRule.requireAttestationsBy',
    ),
    fc.anything({maxDepth: 3}),
  )
  .map(([o, path, v]) => {
    const copy = structuredClone(o) as Record<string, unknown>
    const [a, b] = path.split('.') as [string, string | undefined]
    if (b === undefined) copy[a] = v
    else copy[a] = {...(typeof copy[a] === 'object' && copy[a] !== null ? (copy[a] as object) : {}), [b]: v}
    return copy
  })

describe('policy parser', () => {
  it(
    'arbitrary values (fc.anything) and mangled policy objects → Policy or POLICY_INVALID / INVALID_INPUT',
    () => {
      tally.run(
        'parsePolicyObject(anything)',
        fc.anything({
          maxDepth: 4,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (v) => {
          parseOrRefuse(() => parsePolicyObject(v, 'fuzz'))
        },
      )
      tally.run('parsePolicyObject(mangled policy)', mangledPolicy, (v) => {
        parseOrRefuse(() => parsePolicyObject(v, 'fuzz'))
      })
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'arbitrary text and mangled policy YAML → Policy or POLICY_INVALID / INVALID_INPUT',
    () => {
      tally.run('parsePolicyText(arbitrary string)', fc.string({unit: 'binary', maxLength: 400}), (t) => {
        parseOrRefuse(() => parsePolicyText(t, 'fuzz.yaml'))
      })
      const mangledText = fc
        .tuple(
          validPolicyObject.map((o) => stringify(o)),
          fc.nat(),
          fc.nat({max: 8}),
          fc.string({maxLength: 4}),
        )
        .map(([t, i, n, ins]) => {
          const at = t.length === 0 ? 0 : i % t.length
          return t.slice(0, at) + ins + t.slice(at + n)
        })
      tally.run('parsePolicyText(mangled policy YAML)', mangledText, (t) => {
        parseOrRefuse(() => parsePolicyText(t, 'fuzz.yaml'))
      })
    },
    FUZZ_TIMEOUT_MS,
  )

  it(
    'valid policies: parse(stringify(policy)) round-trips through YAML and JSON',
    () => {
      tally.run('valid policy round trip (YAML + JSON)', validPolicyObject, (o) => {
        const p = parsePolicyObject(o, 'obj')
        const rest = toRest(p)
        const fromYaml = parsePolicyText(stringify(rest), 'policy.yaml')
        const fromJson = parsePolicyText(JSON.stringify(rest, null, 2), 'policy.json')
        expect(comparable(fromYaml)).toEqual(comparable(p))
        expect(comparable(fromJson)).toEqual(comparable(p))
        expect(comparable(parsePolicyText(stringify(o), 'orig.yaml'))).toEqual(comparable(p))
      })
    },
    FUZZ_TIMEOUT_MS,
  )
})
