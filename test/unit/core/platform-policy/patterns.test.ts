import {describe, expect, it} from '@jest/globals'
import {
  allowPatternMatches,
  directoryOf,
  sourceRepoMatches,
  splitReference,
  trustedDirMatches,
  validateAllowPattern,
  validateSourceRepoPattern,
  validateTrustedDirPattern,
} from '../../../../src/core/platform-policy/patterns.js'

const D = 'sha256:77b0' + 'a'.repeat(60)
const D2 = 'sha256:' + 'b'.repeat(64)
const P = 'us-central1-docker.pkg.dev/my-project'

describe('§5.1 allowPattern matching: the five documented forms (DOC-CV "Exempt images with allowlists")', () => {
  it.each([
    // form 1: name prefix with * or **
    ['form 1: `my-image*` matches my-image with any tag/digest', `${P}/my-image*`, `${P}/my-image`, true],
    ['form 1: `my-image*` matches my-image1', `${P}/my-image*`, `${P}/my-image1:v1`, true],
    ['form 1: `my-image*` matches my-image2 by digest', `${P}/my-image*`, `${P}/my-image2@${D}`, true],
    ['form 1: `*` does not cross `/`', `${P}/my-image*`, `${P}/my-image/sub`, false],
    ['form 1: `**` matches my-image', `${P}/**`, `${P}/my-image`, true],
    ['form 1: `**` crosses `/`', `${P}/**`, `${P}/some-directory/other-image:1`, true],
    ['form 1: `**` does not match a sibling project', `${P}/**`, 'us-central1-docker.pkg.dev/my-project2/app', false],
    // form 2: name only
    ['form 2: a bare name matches any tag', `${P}/my-image`, `${P}/my-image:latest`, true],
    ['form 2: a bare name matches any digest', `${P}/my-image`, `${P}/my-image@${D}`, true],
    ['form 2: a bare name matches tag and digest', `${P}/my-image`, `${P}/my-image:1@${D}`, true],
    ['form 2: a bare name is not a prefix', `${P}/my-image`, `${P}/my-image2:1`, false],
    // form 3: tag and tag prefix
    ['form 3: name:tag matches with no digest', `${P}/my-image:latest`, `${P}/my-image:latest`, true],
    ['form 3: name:tag matches with any digest', `${P}/my-image:latest`, `${P}/my-image:latest@${D}`, true],
    ['form 3: name:tag does not match another tag', `${P}/my-image:latest`, `${P}/my-image:v2`, false],
    ['form 3: tag prefix foo* matches foo', `${P}/my-image:foo*`, `${P}/my-image:foo`, true],
    ['form 3: tag prefix foo* matches foobar', `${P}/my-image:foo*`, `${P}/my-image:foobar@${D}`, true],
    ['form 3: tag prefix foo* does not match bar', `${P}/my-image:foo*`, `${P}/my-image:bar`, false],
    ['form 3 [INFERRED]: name:tag does not match a digest-only reference', `${P}/my-image:latest`, `${P}/my-image@${D}`, false],
    // form 4: digest
    ['form 4: name@digest matches with no tag', `${P}/my-image@${D}`, `${P}/my-image@${D}`, true],
    ['form 4: name@digest matches with any tag', `${P}/my-image@${D}`, `${P}/my-image:x@${D}`, true],
    ['form 4: name@digest does not match another digest', `${P}/my-image@${D}`, `${P}/my-image@${D2}`, false],
    ['form 4: name@digest does not match a tag-only reference', `${P}/my-image@${D}`, `${P}/my-image:latest`, false],
    // form 5: tag and digest
    ['form 5: exact name, tag and digest', `${P}/my-image:latest@${D}`, `${P}/my-image:latest@${D}`, true],
    ['form 5: another tag does not match', `${P}/my-image:latest@${D}`, `${P}/my-image:v1@${D}`, false],
    ['form 5: no tag does not match', `${P}/my-image:latest@${D}`, `${P}/my-image@${D}`, false],
    ['[INFERRED] no docker.io normalisation', 'docker.io/library/nginx', 'nginx:1', false],
    ['[INFERRED] case-sensitive', `${P}/My-image`, `${P}/my-image`, false],
    ['host:port is not a tag', 'localhost:5000/app', 'localhost:5000/app:1', true],
  ])('%s', (_name, pattern, image, expected) => {
    expect(allowPatternMatches(pattern, image)).toBe(expected)
  })
})

describe('§5.1/§3.2 allowPattern validation', () => {
  it.each([
    ['`*` alone', '*'],
    ['`**` alone', '**'],
    ['an empty tag prefix (DOC-CV: us-central1.pkg.dev/my-image:* is invalid)', 'us-central1.pkg.dev/my-image:*'],
    ['`**` not after `/`', `${P}/app**`],
    ['a wildcard before the last `/`', `${P}/*/app`],
    ['[INFERRED] a wildcard inside the registry', 'gcr.i*'],
    ['a wildcard with a digest', `${P}/app*@${D}`],
    ['a wildcard in the name with a tag', `${P}/app*:v1`],
    ['a malformed digest', `${P}/app@sha256:xyz`],
    ['empty', ''],
  ])('rejects %s', (_name, p) => {
    expect(validateAllowPattern(p)).toEqual(expect.any(String))
  })
  it.each([
    `${P}/my-image*`,
    `${P}/**`,
    `${P}/my-image`,
    `${P}/my-image:latest`,
    `${P}/my-image:foo*`,
    `${P}/my-image@${D}`,
    `${P}/my-image:latest@${D}`,
    'gcr.io/*',
  ])('accepts %s', (p) => {
    expect(validateAllowPattern(p)).toBeUndefined()
  })
})

describe('§5.2 trustedDirPatterns (SDK-MSG TrustedDirectoryCheck examples)', () => {
  it.each(['gcr.io/my-project/my-repo', '*-docker.pkg.dev/my-project/my-repo', '*.gcr.io/my-project', 'gcr.io/my-project/*', 'gcr.io/my-project/**'])(
    'valid: %s',
    (p) => {
      expect(validateTrustedDirPattern(p)).toBeUndefined()
    },
  )
  it.each([
    ['registry is not completely specified', 'gcr.i*'],
    ['only leading or trailing `*`', 'sub*domain.gcr.io/nginx'],
    ['leading `*` can only match subdomain', '*pkg.dev/my-project/my-repo'],
    ['one leading `*`, cannot match `/`', '**-docker.pkg.dev'],
    ['a one-word registry', 'localhost/my-project'],
    ['a digest', 'gcr.io/p/app@sha256:' + 'a'.repeat(64)],
  ])('invalid (%s): %s', (_why, p) => {
    expect(validateTrustedDirPattern(p)).toEqual(expect.any(String))
  })

  it('[INFERRED] the directory of an image is its name without the last component, tag or digest', () => {
    expect(directoryOf(`us-central1-docker.pkg.dev/p/repo/app:1@${D}`)).toBe('us-central1-docker.pkg.dev/p/repo')
    expect(directoryOf('app')).toBe('')
  })

  it.each([
    ['a plain pattern matches a single directory', 'gcr.io/my-project/my-repo', 'gcr.io/my-project/my-repo', true],
    ['[INFERRED] a plain pattern does not trust subdirectories', 'gcr.io/my-project/my-repo', 'gcr.io/my-project/my-repo/team', false],
    ['leading * matches a location prefix', '*-docker.pkg.dev/my-project/my-repo', 'us-central1-docker.pkg.dev/my-project/my-repo', true],
    ['*.gcr.io matches eu.gcr.io', '*.gcr.io/my-project', 'eu.gcr.io/my-project', true],
    ['*.gcr.io does not match gcr.io itself', '*.gcr.io/my-project', 'gcr.io/my-project', false],
    ['[OPEN, narrower] leading * matches one label only', '*.gcr.io/my-project', 'a.b.gcr.io/my-project', false],
    ['dir/* matches direct directories', 'gcr.io/my-project/*', 'gcr.io/my-project/repo', true],
    ['dir/* does not match deeper directories', 'gcr.io/my-project/*', 'gcr.io/my-project/repo/team', false],
    ['dir/** matches all directories', 'gcr.io/my-project/**', 'gcr.io/my-project/repo/team', true],
    ['[OPEN, narrower] dir/** does not cover dir itself', 'gcr.io/my-project/**', 'gcr.io/my-project', false],
    ['[INFERRED] case-sensitive', 'gcr.io/My-project/repo', 'gcr.io/my-project/repo', false],
  ])('%s', (_name, pattern, dir, expected) => {
    expect(trustedDirMatches(pattern, dir)).toBe(expected)
  })
})

describe('§5.3 trustedSourceRepoPatterns (SDK-MSG VerificationRule)', () => {
  it.each([
    ['exact, no scheme', 'source.cloud.google.com/my-project/my-repo-name', 'source.cloud.google.com/my-project/my-repo-name', true],
    ['the git+ssh scheme is stripped', 'source.cloud.google.com/my-project/my-repo-name', 'git+ssh://source.cloud.google.com/my-project/my-repo-name', true],
    ['the https scheme is stripped', 'source.cloud.google.com/my-project/my-repo-name', 'https://source.cloud.google.com/my-project/my-repo-name', true],
    ['org/* matches direct repos', 'github.com/my-project/*', 'https://github.com/my-project/repo', true],
    ['org/* does not cross /', 'github.com/my-project/*', 'https://github.com/my-project/repo/sub', false],
    ['github.com/** matches all repos', 'github.com/**', 'https://github.com/a/b', true],
    ['[OPEN, exact] a trailing .git is not stripped', 'github.com/a/b', 'https://github.com/a/b.git', false],
  ])('%s', (_name, pattern, url, expected) => {
    expect(sourceRepoMatches(pattern, url)).toBe(expected)
  })
  it.each(['https://github.com/a/b', 'github.com/a*', 'github.com/*/b', 'github.com'])('invalid: %s', (p) => {
    expect(validateSourceRepoPattern(p)).toEqual(expect.any(String))
  })
  it('splitReference keeps host:port out of the tag', () => {
    expect(splitReference('localhost:5000/a/b:1@' + D)).toEqual({name: 'localhost:5000/a/b', tag: '1', digest: D})
  })
})
