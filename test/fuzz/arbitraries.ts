/**
 * fast-check arbitraries shared by the fuzz suites: image references built from the grammar of
 * src/core/reference/index.ts (docs/image-references.md#grammar), and Kubernetes-ish manifests.
 */
import fc from 'fast-check'

const chars = (s: string): fc.Arbitrary<string> => fc.constantFrom(...s.split(''))
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789'
const ALNUM = LOWER_ALNUM + 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
const HEX = '0123456789abcdef'

export const alnum = fc.string({unit: chars(LOWER_ALNUM), minLength: 1, maxLength: 8})
export const separator = fc.constantFrom('.', '_', '__', '-', '--', '---')
export const pathComponent = fc.tuple(alnum, fc.array(fc.tuple(separator, alnum), {maxLength: 3})).map(([a, rest]) => a + rest.map(([s, b]) => s + b).join(''))
export const path = fc.array(pathComponent, {minLength: 1, maxLength: 4}).map((p) => p.join('/'))

const domainComponent = fc.oneof(
  chars(ALNUM),
  fc.tuple(chars(ALNUM), fc.string({unit: chars(ALNUM + '-'), maxLength: 6}), chars(ALNUM)).map(([a, m, b]) => a + m + b),
)
/** A registry host the Docker normalization treats as a domain (has a '.' or a port, or is localhost / IPv6). */
export const domain = fc.oneof(
  fc
    .tuple(fc.array(domainComponent, {minLength: 2, maxLength: 4}), fc.option(fc.integer({min: 0, max: 99999}), {nil: undefined}))
    .map(([parts, port]) => parts.join('.') + (port === undefined ? '' : `:${port}`)),
  fc.tuple(domainComponent, fc.integer({min: 0, max: 99999})).map(([d, port]) => `${d}:${port}`),
  fc.constant('localhost'),
  fc.tuple(fc.constantFrom('localhost'), fc.integer({min: 1, max: 65535})).map(([d, p]) => `${d}:${p}`),
  fc
    .tuple(fc.string({unit: chars('0123456789abcdefABCDEF:'), minLength: 1, maxLength: 12}), fc.option(fc.integer({min: 0, max: 65535}), {nil: undefined}))
    .map(([h, port]) => `[${h.includes(':') ? h : '::' + h}]` + (port === undefined ? '' : `:${port}`)), // without a ':' it is not a host (Docker)
  fc.constantFrom('docker.io', 'index.docker.io', 'gcr.io', 'us-docker.pkg.dev', 'registry-1.docker.io', '127.0.0.1:5000'),
)
const WORD = ALNUM + '_'
export const tag = fc.tuple(chars(WORD), fc.string({unit: chars(WORD + '.-'), maxLength: 127})).map(([a, b]) => a + b)
export const digest = fc.oneof(
  fc.string({unit: chars(HEX), minLength: 64, maxLength: 64}).map((h) => `sha256:${h}`),
  fc.string({unit: chars(HEX), minLength: 96, maxLength: 96}).map((h) => `sha384:${h}`),
  fc.string({unit: chars(HEX), minLength: 128, maxLength: 128}).map((h) => `sha512:${h}`),
)

/** A valid reference: [domain/]path[:tag][@digest], every part from the grammar. */
export const validReference = fc
  .record({
    domain: fc.option(domain, {nil: undefined}),
    path,
    tag: fc.option(tag, {nil: undefined}),
    digest: fc.option(digest, {nil: undefined}),
  })
  .map(({domain: d, path: p0, tag: t, digest: g}) => {
    // Without a domain, a first path component with a '.' (or exactly "localhost") would be read as
    // the registry host (Docker normalization), so keep it a plain path component.
    const p = d === undefined && p0.includes('/') ? p0.replace(/^[^/]+/, (c) => (c === 'localhost' ? 'localhostx' : c.replace(/\./g, '-'))) : p0
    return `${d === undefined ? '' : d + '/'}${p}${t === undefined ? '' : ':' + t}${g === undefined ? '' : '@' + g}`
  })
  // A bare 64-hex string is an image ID, never a name (grammar rule); a path over 255 chars is rejected.
  .filter((r) => !/^[a-f0-9]{64}$/.test(r))

/** Strings over the reference alphabet (dense in near-misses), plus a few foreign characters. */
export const referenceish = fc.string({
  unit: fc.oneof({weight: 20, arbitrary: chars('abcz09AZ._-/:@[]+')}, {weight: 1, arbitrary: chars(' {}$%\u00e9\u0000\n')}),
  maxLength: 300,
})

/** Adversarial repetitions for backtracking (ReDoS) checks: a unit repeated up to 20,000 times, then a breaker. */
export const repetitive = fc
  .tuple(
    fc.constantFrom('a', 'a-', 'a.', 'a_', 'a__', 'a--', '-', '.', 'a/', '[:', ':', '1', 'a:', 'sha256:', '0'),
    fc.integer({min: 1, max: 20_000}),
    fc.constantFrom('', '!', '-', '/', ':', '@', 'A', '@sha256:', ' '),
    fc.constantFrom('', 'gcr.io/', '[::', 'x:'),
  )
  .map(([unit, n, tail, head]) => head + unit.repeat(n) + tail)
