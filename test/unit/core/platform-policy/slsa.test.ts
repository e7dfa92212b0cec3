/**
 * slsaCheck, statement by statement (spec §2.7 SlsaCheck/VerificationRule, §5.3 trustedSourceRepoPatterns, §6.6, §4.5,
 * §10.4–10.5), over BUILD occurrences whose DSSE envelopes are signed here with generated keys. Each row names the
 * statement it checks. The evaluator verifies the envelope itself with the builder keys the facts carry.
 */
import {describe, expect, it} from '@jest/globals'
import {generateKeyPairSync} from 'node:crypto'
import {evaluatePlatformPolicy, platformFactsNeeded} from '../../../../src/core/platform-policy/evaluate.js'
import {parseBuilderKeys, repositoryOf, verifyProvenance, prepareBuilderKeys} from '../../../../src/core/platform-policy/provenance.js'
import {SafeDeployError} from '../../../../src/core/errors.js'
import {
  artifactKey,
  type ArtifactFacts,
  type BuilderKey,
  type BuildOccurrenceFact,
  type PlatformFacts,
  type ProjectFact,
} from '../../../../src/core/platform-policy/types.js'
import {CLOUD_BUILD, DIGEST, DIGEST2, GCB_KEY_ID, KEY_A, KEY_B, buildOccurrence, policy, slsaV01, slsaV1} from './fixtures.js'

const NOW = new Date('2026-11-27T12:00:00Z')
const IMG = 'us-docker.pkg.dev/my-project/prod/app'
const KEY = artifactKey(IMG, DIGEST)
const RIGHT: BuilderKey[] = [{keyId: GCB_KEY_ID, publicKeyPem: KEY_A.pem}]
const WRONG: BuilderKey[] = [{keyId: GCB_KEY_ID, publicKeyPem: KEY_B.pem}]

const rule = (extra = '', projects = '[projects/builds]') =>
  `        - trustedBuilder: GOOGLE_CLOUD_BUILD
          attestationSource: {containerAnalysisAttestationProjects: ${projects}}
${extra}`
const slsaPolicy = (...rules: string[]) =>
  policy(`gkePolicy:\n  checkSets:\n  - checks:\n    - displayName: Built by Cloud Build\n      slsaCheck:\n        rules:\n${rules.join('')}`)

const CONFIG_RULE = slsaPolicy(rule('          configBasedBuildRequired: true\n          trustedSourceRepoPatterns: [github.com/my-org/*]\n'))
const PLAIN_RULE = slsaPolicy(rule())

type Occ = BuildOccurrenceFact
const found = (...items: Occ[]): ProjectFact<Occ> => ({status: 'found', items})

function evaluate(
  p: ReturnType<typeof policy>,
  byProject: Record<string, ProjectFact<Occ>> | undefined,
  keys: BuilderKey[] | 'none' = RIGHT,
  image = `${IMG}@${DIGEST}`,
) {
  const art: ArtifactFacts = byProject === undefined ? {} : {provenance: byProject}
  const facts: PlatformFacts = {artifacts: {[KEY]: art}, ...(keys === 'none' ? {} : {builderKeys: keys})}
  const r = evaluatePlatformPolicy(p, [{name: 'p', namespace: 'prod', serviceAccount: 'default', images: [{image, container: 'c'}]}], facts, {now: NOW})
  const img = r.pods[0]?.images[0]
  const check = img?.checks[0]
  if (img === undefined || check === undefined) throw new Error('no check result')
  return {verdict: check.verdict, explanation: check.explanation, notes: img.notes, image: img.verdict}
}

const v1 = (o: Parameters<typeof slsaV1>[0] extends infer T ? Partial<T> : never = {}) => slsaV1({name: IMG, digest: DIGEST, ...o})
const good = (o: Parameters<typeof buildOccurrence>[4] = {}) => buildOccurrence(IMG, DIGEST, v1(), KEY_A, o)

describe('§6.6 (2) "generated and signed by the trusted builder": the envelope signature (DSSE PAE) with a builder key', () => {
  it.each<[string, Occ, BuilderKey[] | 'none', string, RegExp]>([
    [
      'signed by the builder key named by the envelope keyid: CONFORMANT',
      good(),
      RIGHT,
      'CONFORMANT',
      /verified Cloud Build provenance .*signed with builder key projects\/verified-builder/,
    ],
    [
      '§10.4 no --builder-keys at all: ERROR asking for them, never CONFORMANT',
      good(),
      'none',
      'ERROR',
      /no builder keys were given: pass --builder-keys FILE with an entry for projects\/verified-builder/,
    ],
    [
      'keys given, none for the envelope keyid: ERROR asking for that key',
      good({keyId: 'projects/x/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'}),
      RIGHT,
      'ERROR',
      /no builder key has that keyId: pass --builder-keys/,
    ],
    ['the keyid names a key, but another public key is given for it (wrong key): ERROR', good(), WRONG, 'ERROR', /does not verify with builder key/],
    ['payload changed after signing: ERROR, never CONFORMANT', good({tamper: true}), RIGHT, 'ERROR', /does not verify/],
    ['signed over the bare payload, not the PAE: ERROR (only DSSE signatures count)', good({rawSignature: true}), RIGHT, 'ERROR', /does not verify/],
    ['a BUILD occurrence without an envelope (unsigned provenance): ERROR', good({envelope: false}), RIGHT, 'ERROR', /no DSSE envelope/],
    ['an envelope of another payload type: ERROR', good({payloadType: 'text/plain'}), RIGHT, 'ERROR', /payload type "text\/plain"/],
    ['base64 in the URL-safe alphabet (as an evidence file may carry) verifies', good({urlSafe: true}), RIGHT, 'CONFORMANT', /verified/],
  ])('%s', (_name, occ, keys, verdict, text) => {
    const r = evaluate(PLAIN_RULE, {'projects/builds': found(occ)}, keys)
    expect(r.verdict).toBe(verdict)
    expect(r.explanation).toMatch(text)
  })

  it('an unverifiable provenance is not read at all: another builder in an unsigned claim is ERROR, not NON_CONFORMANT', () => {
    const occ = buildOccurrence(IMG, DIGEST, v1({builderId: 'https://github.com/actions/runner'}), KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(occ)}, 'none').verdict).toBe('ERROR')
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(occ)}, RIGHT).verdict).toBe('NON_CONFORMANT')
  })

  it('a verified statement names the builder: another builder is NON_CONFORMANT; GOOGLE_CLOUD_BUILD is the cloudbuild.googleapis.com group (noted)', () => {
    const other = buildOccurrence(IMG, DIGEST, v1({builderId: 'https://github.com/actions/runner'}), KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(other)})).toMatchObject({
      verdict: 'NON_CONFORMANT',
      explanation: expect.stringMatching(/built by https:\/\/github.com\/actions\/runner, not Google Cloud Build/),
    })
    const lookalike = buildOccurrence(IMG, DIGEST, v1({builderId: 'https://cloudbuild.googleapis.com.evil.example/GoogleHostedWorker'}), KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(lookalike)}).verdict).toBe('NON_CONFORMANT')
    const ok = evaluate(PLAIN_RULE, {'projects/builds': found(good())})
    expect(ok.notes.join('\n')).toMatch(/any builder id under https:\/\/cloudbuild.googleapis.com\//)
    expect(ok.notes.join('\n')).toMatch(/verified with a key given with --builder-keys/)
  })

  it('SLSA v0.1 provenance (builder.id) from Cloud Build counts when no config is required', () => {
    const occ = buildOccurrence(IMG, DIGEST, slsaV01({name: IMG, digest: DIGEST}), KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(occ)}).verdict).toBe('CONFORMANT')
  })

  it('a statement that is not SLSA provenance does not count', () => {
    const occ = buildOccurrence(IMG, DIGEST, {...v1(), predicateType: 'https://spdx.dev/Document'}, KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(occ)})).toMatchObject({
      verdict: 'NON_CONFORMANT',
      explanation: expect.stringContaining('is not SLSA provenance'),
    })
  })
})

describe('§6.6 (1) "a build-provenance occurrence for the image digest in one of containerAnalysisAttestationProjects"', () => {
  it('the signed subject names another digest: NON_CONFORMANT (the occurrence resourceUri is not trusted)', () => {
    const occ = buildOccurrence(IMG, DIGEST, slsaV1({name: IMG, digest: DIGEST2}), KEY_A)
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(occ)})).toMatchObject({
      verdict: 'NON_CONFORMANT',
      explanation: expect.stringContaining(`not a provenance of ${DIGEST} (signed for another digest ${DIGEST2})`),
    })
  })
  it('no BUILD occurrence in the projects: NON_CONFORMANT, with or without builder keys', () => {
    expect(evaluate(PLAIN_RULE, {'projects/builds': found()}).verdict).toBe('NON_CONFORMANT')
    expect(evaluate(PLAIN_RULE, {'projects/builds': found()}, 'none').verdict).toBe('NON_CONFORMANT')
  })
  it('§10.5 a project that could not be read: ERROR; another project with a verified provenance still satisfies the rule', () => {
    const p = slsaPolicy(rule('', '[projects/builds, projects/other]'))
    const denied = {status: 'error' as const, message: 'PERMISSION_DENIED'}
    expect(evaluate(p, {'projects/builds': found(), 'projects/other': denied}).verdict).toBe('ERROR')
    expect(evaluate(p, {'projects/builds': found(good()), 'projects/other': denied}).verdict).toBe('CONFORMANT')
  })
  it('facts not collected: ERROR', () => {
    expect(evaluate(PLAIN_RULE, undefined).verdict).toBe('ERROR')
  })
  it('platformFactsNeeded asks for exactly the projects the rules name', () => {
    const p = slsaPolicy(rule('', '[projects/builds]'), rule('', '[projects/other, projects/builds]'))
    const needed = platformFactsNeeded(p, [{name: 'p', namespace: 'prod', images: [{image: `${IMG}@${DIGEST}`, container: 'c'}]}])
    expect(needed.map((n) => n.provenanceProjects)).toEqual([['projects/builds', 'projects/other']])
  })
})

describe('§2.7 "compliant if any of the rules are satisfied"; a rule "if any of the fetched SLSA attestations is verified"', () => {
  it('one rule failing, another satisfied: CONFORMANT', () => {
    const p = slsaPolicy(rule('          configBasedBuildRequired: true\n          trustedSourceRepoPatterns: [github.com/elsewhere/*]\n'), rule())
    expect(evaluate(p, {'projects/builds': found(good())}).verdict).toBe('CONFORMANT')
  })
  it('one provenance tampered, another verified: CONFORMANT', () => {
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(good({tamper: true, id: 'bad'}), good({id: 'ok'}))}).verdict).toBe('CONFORMANT')
  })
  it('a verified provenance failing the rule beside one that cannot be verified: ERROR (the unverified one might satisfy it)', () => {
    const other = buildOccurrence(IMG, DIGEST, v1({builderId: 'https://example.com/ci'}), KEY_A, {id: 'other'})
    const unknownKey = good({id: 'unknown', keyId: 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/9'})
    expect(evaluate(PLAIN_RULE, {'projects/builds': found(other, unknownKey)}).verdict).toBe('ERROR')
  })
})

describe('§6.6 (3) configBasedBuildRequired: a checked-in top-level config from a trusted repository (§5.3 patterns)', () => {
  it.each<[string, Occ, string]>([
    ['SLSA v1 buildConfigSource in github.com/my-org/*', good(), 'CONFORMANT'],
    ['config from another organisation', buildOccurrence(IMG, DIGEST, v1({configRepo: 'git+https://github.com/evil/app'}), KEY_A), 'NON_CONFORMANT'],
    [
      '`*` does not cross `/`: github.com/my-org/team/app',
      buildOccurrence(IMG, DIGEST, v1({configRepo: 'https://github.com/my-org/team/app'}), KEY_A),
      'NON_CONFORMANT',
    ],
    ['no buildConfigSource (inline or manual build)', buildOccurrence(IMG, DIGEST, v1({configRepo: null}), KEY_A), 'NON_CONFORMANT'],
    [
      '[INFERRED] SLSA v0.1 (a manual gcloud builds submit) records no config',
      buildOccurrence(IMG, DIGEST, slsaV01({name: IMG, digest: DIGEST}), KEY_A),
      'NON_CONFORMANT',
    ],
  ])('%s → %s', (_name, occ, verdict) => {
    expect(evaluate(CONFIG_RULE, {'projects/builds': found(occ)}).verdict).toBe(verdict)
  })
  it('the v0.1 rejection says why in a note', () => {
    const occ = buildOccurrence(IMG, DIGEST, slsaV01({name: IMG, digest: DIGEST}), KEY_A)
    expect(evaluate(CONFIG_RULE, {'projects/builds': found(occ)}).notes.join('\n')).toMatch(/SLSA v0.1 provenance does not record a checked-in build config/)
  })
  it('`**` after the host trusts every repository there', () => {
    const p = slsaPolicy(rule('          configBasedBuildRequired: true\n          trustedSourceRepoPatterns: [github.com/**]\n'))
    const occ = buildOccurrence(IMG, DIGEST, v1({configRepo: 'https://github.com/any/deep/repo'}), KEY_A)
    expect(evaluate(p, {'projects/builds': found(occ)}).verdict).toBe('CONFORMANT')
  })
})

describe('§6.6 (4) [OPEN] trustedSourceRepoPatterns without configBasedBuildRequired: every source the build read', () => {
  const p = slsaPolicy(rule('          trustedSourceRepoPatterns: [github.com/my-org/*]\n'))
  it.each<[string, string[], string]>([
    ['one trusted source (its @ref is a revision, not part of the repository)', ['git+https://github.com/my-org/app@refs/heads/main'], 'CONFORMANT'],
    ['a second source outside the patterns', ['git+https://github.com/my-org/app@refs/heads/main', 'https://github.com/evil/lib'], 'NON_CONFORMANT'],
    ['no source recorded', [], 'NON_CONFORMANT'],
  ])('%s → %s', (_name, deps, verdict) => {
    const r = evaluate(p, {'projects/builds': found(buildOccurrence(IMG, DIGEST, v1({deps}), KEY_A))})
    expect(r.verdict).toBe(verdict)
    expect(r.notes.join('\n')).toMatch(/without configBasedBuildRequired: every source repository the build read must match/)
  })
  it('repositoryOf keeps the scheme and host, drops a git ref or a fragment after the host', () => {
    expect(repositoryOf('git+https://github.com/my-org/app@refs/heads/main')).toBe('git+https://github.com/my-org/app')
    expect(repositoryOf('https://storage.googleapis.com/b/source.tgz#123')).toBe('https://storage.googleapis.com/b/source.tgz')
    expect(repositoryOf('https://github.com/my-org/app')).toBe('https://github.com/my-org/app')
  })
})

describe('§6.6 (5) [OPEN] customConstraints, §4.5 tags', () => {
  it('customConstraints cannot be evaluated locally: ERROR even with a verified provenance', () => {
    const p = slsaPolicy(rule('          customConstraints: "true"\n'))
    expect(evaluate(p, {'projects/builds': found(good())}).verdict).toBe('ERROR')
  })
  it('[INFERRED] a tag without a digest: NON_CONFORMANT, nothing asked for', () => {
    expect(evaluate(PLAIN_RULE, undefined, RIGHT, `${IMG}:1.0`).verdict).toBe('NON_CONFORMANT')
    expect(platformFactsNeeded(PLAIN_RULE, [{name: 'p', images: [{image: `${IMG}:1.0`, container: 'c'}]}])).toEqual([])
  })
})

describe('verifyProvenance reads the signed statement only', () => {
  it('the builder, config repository and sources come from the payload', () => {
    const r = verifyProvenance(good(), prepareBuilderKeys(RIGHT), DIGEST)
    expect(r).toEqual({
      status: 'verified',
      keyId: GCB_KEY_ID,
      claims: {
        predicateType: 'https://slsa.dev/provenance/v1',
        builderId: CLOUD_BUILD,
        configSourceRepository: 'git+https://github.com/my-org/app',
        sourceUris: ['git+https://github.com/my-org/app@refs/heads/main'],
      },
    })
  })
})

describe('parseBuilderKeys (--builder-keys FILE): every bad entry named with the file, KEY_INVALID (exit 7)', () => {
  const problem = (text: string): SafeDeployError => {
    try {
      parseBuilderKeys(text, 'keys.json')
    } catch (err) {
      if (err instanceof SafeDeployError) return err
      throw err
    }
    throw new Error('expected a KEY_INVALID error')
  }
  const all = (e: SafeDeployError) => [e.message, ...e.errors.map((x) => x.message)].join('\n')
  const rsaPrivate = generateKeyPairSync('rsa', {modulusLength: 2048}).privateKey.export({type: 'pkcs8', format: 'pem'}).toString()

  it('accepts the JSON array the issue gives', () => {
    expect(parseBuilderKeys(JSON.stringify(RIGHT), 'keys.json')).toEqual(RIGHT)
  })
  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /--builder-keys keys.json: not JSON/],
    ['not an array', JSON.stringify({keyId: 'k'}), /expected a JSON array/],
    ['empty', '[]', /the array is empty/],
    ['an entry without keyId', JSON.stringify([{publicKeyPem: KEY_A.pem}]), /entry 1: keyId must be a non-empty string/],
    [
      'a bad PEM, named with its entry and keyId',
      JSON.stringify([RIGHT[0], {keyId: 'k2', publicKeyPem: 'nope'}]),
      /entry 2 \(keyId "k2"\): publicKeyPem is not a PEM public key/,
    ],
    ['a private key', JSON.stringify([{keyId: 'k', publicKeyPem: rsaPrivate}]), /is a private key, expected the public key/],
    ['an unknown field', JSON.stringify([{...RIGHT[0], algorithm: 'x'}]), /entry 1: unknown field "algorithm"/],
  ])('%s', (_name, text, msg) => {
    const e = problem(text)
    expect(e.code).toBe('KEY_INVALID')
    expect(e.exitCode).toBe(7)
    expect(all(e)).toMatch(msg)
  })
  it('an entry whose keyId is a Cloud KMS key version may leave out the PEM (read from KMS); any other keyId may not', () => {
    const kms = 'projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1'
    expect(parseBuilderKeys(JSON.stringify([{keyId: kms}]), 'keys.json')).toEqual([{keyId: kms}])
    expect(all(problem(JSON.stringify([{keyId: 'my-key'}])))).toMatch(
      /entry 1 \(keyId "my-key"\): publicKeyPem must be a PEM public key \(only a keyId that is a Cloud KMS key version/,
    )
  })
  it('every problem at once', () => {
    const e = problem(
      JSON.stringify([
        {keyId: 'a', publicKeyPem: 'x'},
        {keyId: 'b', publicKeyPem: 'y'},
      ]),
    )
    expect(e.errors).toHaveLength(2)
  })
})
