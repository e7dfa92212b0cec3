import {describe, expect, it} from '@jest/globals'
import {
  exactPatternHint,
  matchPattern,
  normalizationHint,
  patternHasTag,
  SYSTEM_ALLOWLIST,
  systemAllowlistFromPolicy,
  validatePattern,
} from '../../../../src/core/policy/allowlist.js'

const D0 = 'sha256:' + '0'.repeat(64)
const DA = 'sha256:' + 'a'.repeat(64)

describe('matchPattern: kritis allowlist_test.go facts (docs/binauthz.md#allowlist-patterns)', () => {
  it.each([
    ['gcr.io/1-my-image@' + D0, 'gcr.io/1-my-image*', 'match'],
    ['gcr.io/1-my-image:tag', 'gcr.io/1-my-image*', 'match'],
    ['gcr.io/1-my-image2:latest', 'gcr.io/1-my-image*', 'match'],
    ['gcr.io/1-my-image/a:latest', 'gcr.io/1-my-image*', 'no-match'],
    ['gcr.io/4-my-image-tag-prefix:1.3', 'gcr.io/4-my-image-tag-prefix:1.*', 'match'],
    ['gcr.io/4-my-image-tag-prefix:2.3', 'gcr.io/4-my-image-tag-prefix:1.*', 'no-match'],
    ['gcr.io/3-my-untagged-image:tag', 'gcr.io/3-my-untagged-image', 'no-match'],
    ['gcr.io/3-my-untagged-image', 'gcr.io/3-my-untagged-image', 'match'],
    ['gcr.io/8-my-image@' + DA, 'gcr.io/8-my-image@sha256:*', 'match'],
    ['gcr.io/8-my-image@' + D0, 'gcr.io/8-my-image@sha256:*', 'match'],
    ['local-image-1:any-tag', 'local-image-1:*', 'match'],
  ] as const)('%s vs %s → %s', (image, pattern, want) => {
    expect(matchPattern(image, pattern)).toBe(want)
  })
})

describe('matchPattern: * vs ** (docs and v1beta1 proto)', () => {
  it.each([
    ['gcr.io/my-project/nginx:latest', 'gcr.io/my-project/nginx*', 'match'],
    ['gcr.io/my-project/nginx-images/nginx', 'gcr.io/my-project/nginx*', 'no-match'],
    ['gcr.io/nginx@latest', 'gcr.io/nginx*', 'match'],
    ['gcr.io/nginx/image', 'gcr.io/nginx*', 'no-match'],
    ['gcr.io/nginx/image', 'gcr.io/nginx**', 'match'],
    ['gcr.io/my-project/nginx-1.14.2/image:latest', 'gcr.io/my-project/nginx**', 'match'],
    ['gcr.io/my-project-exploit/evil:1', 'gcr.io/my-project**', 'match'],
    ['gcr.io/example-project/app:1', 'gcr.io/example-project/*', 'match'],
    ['gcr.io/example-project/sub/app:1', 'gcr.io/example-project/*', 'no-match'],
    ['gcr.io/example-project/sub/app:1', 'gcr.io/example-project/**', 'match'],
    ['gcr.io/other/app', 'gcr.io/example-project/**', 'no-match'],
    ['gcr.io/example-project/helloworld:latest', 'gcr.io/example-project/helloworld:latest', 'match'],
    ['gcr.io/example-project/helloworld:v1.2', 'gcr.io/example-project/helloworld:v1.*', 'match'],
    ['gcr.io/example-project/helloworld@' + DA, 'gcr.io/example-project/helloworld@' + DA, 'match'],
    ['gcr.io/example-project/helloworld@' + D0, 'gcr.io/example-project/helloworld@' + DA, 'no-match'],
  ] as const)('%s vs %s → %s', (image, pattern, want) => {
    expect(matchPattern(image, pattern)).toBe(want)
  })
})

describe('matchPattern: name@* (assumption: digest and tag+digest match, bare tag uncertain)', () => {
  const P = 'gcr.io/example-project/helloworld@*'
  it.each([
    ['gcr.io/example-project/helloworld@' + DA, 'match'],
    ['gcr.io/example-project/helloworld:v1@' + DA, 'match'],
    ['gcr.io/example-project/helloworld:v1', 'uncertain'],
    ['gcr.io/example-project/helloworld', 'no-match'],
    ['gcr.io/example-project/helloworld2@' + DA, 'no-match'],
    ['gcr.io/example-project/helloworld/sub@' + DA, 'no-match'],
  ] as const)('%s → %s', (image, want) => {
    expect(matchPattern(image, P)).toBe(want)
  })

  it('tag+digest against a digest pattern is uncertain, never a match', () => {
    expect(matchPattern('gcr.io/p/app:v1@' + DA, 'gcr.io/p/app@' + DA)).toBe('uncertain')
    expect(matchPattern('gcr.io/p/app:v1@' + DA, 'gcr.io/p/app@sha256:*')).toBe('uncertain')
  })
})

describe('matchPattern: local references, no normalisation, case-sensitive', () => {
  it.each([
    ['loc-ref', 'loc-ref', 'match'],
    ['nginx', 'docker.io/library/nginx', 'no-match'],
    ['docker.io/library/nginx', 'nginx', 'no-match'],
    ['nginx:1.25', 'nginx*', 'match'],
    ['nginx:1.25', 'docker.io/library/nginx*', 'no-match'],
    ['GCR.io/p/app', 'gcr.io/p/app', 'no-match'],
    ['gcr.io/p/app', 'gcr.io/p/App*', 'no-match'],
  ] as const)('%s vs %s → %s', (image, pattern, want) => {
    expect(matchPattern(image, pattern)).toBe(want)
  })
})

describe('validatePattern', () => {
  it.each([
    'gcr.io/my-project/nginx*',
    'gcr.io/my-project/**',
    'gcr.io/*',
    'gcr.io/example-project/helloworld@*',
    'gcr.io/example-project/helloworld:v1.*',
    'gcr.io/im@sha256:*',
    'loc-ref',
    'local-image-1:*',
    'nginx*',
    'localhost:5000/app*',
  ])('valid: %s', (p) => {
    expect(validatePattern(p)).toBeUndefined()
  })

  it.each([
    ['', /empty/],
    ['gcr.io/my-project/n*x', /only allowed at the end/],
    ['gcr.io/*/app', /only allowed at the end/],
    ['gcr.io/p/***', /only allowed at the end/],
    ['gcr.i*', /after the registry/],
    ['gcr.io*', /after the registry/],
    ['gcr.io**', /after the registry/],
    ['localhost*', /after the registry/],
    ['*', /at least a registry/],
    ['gcr.io/p/app *', /whitespace/],
  ])('invalid: %j', (p, re) => {
    expect(validatePattern(p)).toMatch(re)
  })
})

describe('hints', () => {
  it.each([
    ['nginx', 'docker.io/library/nginx'],
    ['nginx:1.25', 'docker.io/library/nginx*'],
    ['docker.io/library/nginx:1', 'nginx:*'],
    ['index.docker.io/library/redis:7', 'redis:*'],
    ['library/nginx', 'nginx'],
  ])('normalisation: %s vs %s warns', (image, pattern) => {
    expect(normalizationHint(image, pattern)).toMatch(/docker\.io\/.*as written/)
  })

  it.each([
    ['nginx', 'nginx'],
    ['nginx', 'gcr.io/p/nginx'],
    ['gcr.io/p/app', 'gcr.io/q/app'],
  ])('normalisation: no warning for %s vs %s', (image, pattern) => {
    expect(normalizationHint(image, pattern)).toBeUndefined()
  })

  it('exact pattern vs tagged image suggests @* and :*', () => {
    expect(exactPatternHint('gcr.io/p/app:v1', 'gcr.io/p/app')).toMatch(/"gcr.io\/p\/app:\*" and "gcr.io\/p\/app@\*"/)
    expect(exactPatternHint('gcr.io/p/app@' + DA, 'gcr.io/p/app')).toMatch(/exact string equality/)
    expect(exactPatternHint('gcr.io/p/app2:v1', 'gcr.io/p/app')).toBeUndefined()
    expect(exactPatternHint('gcr.io/p/app:v1', 'gcr.io/p/app*')).toBeUndefined()
  })

  it('patternHasTag', () => {
    expect(patternHasTag('gcr.io/p/app:v1')).toBe(true)
    expect(patternHasTag('gcr.io/p/app:v1.*')).toBe(true)
    expect(patternHasTag('local-image-1:*')).toBe(true)
    expect(patternHasTag('gcr.io/p/app@*')).toBe(false)
    expect(patternHasTag('gcr.io/p/**')).toBe(false)
    expect(patternHasTag('localhost:5000/app')).toBe(false)
  })
})

describe('system allowlist', () => {
  it('built-in list holds the documented paths and every entry is a valid pattern', () => {
    expect(SYSTEM_ALLOWLIST).toEqual(
      expect.arrayContaining(['gcr.io/google_containers/*', 'gcr.io/google-containers/*', 'k8s.gcr.io/**', 'gcr.io/stackdriver-agents/*']),
    )
    for (const p of SYSTEM_ALLOWLIST) expect(validatePattern(p)).toBeUndefined()
  })

  it('a user-supplied system policy gives exact (non-approximate) exemptions', () => {
    const s = systemAllowlistFromPolicy({admissionWhitelistPatterns: [{namePattern: 'gke.gcr.io/**'}], source: 'sys.yaml'})
    expect(s).toEqual({patterns: ['gke.gcr.io/**'], approximate: false, source: 'sys.yaml'})
  })
})
