import {describe, expect, it} from '@jest/globals'
import fc from 'fast-check'
import {REDACTED, Redactor, redact, redactValue, redactor} from '../../../src/core/redact.js'

const R = REDACTED
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJlLXZhbHVl'
const PEM = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\nabcDEF123\n-----END PRIVATE KEY-----'
const DIGEST_REF = 'gcr.io/p/app@sha256:' + 'ab'.repeat(32)

describe('Redactor: every pattern, every format', () => {
  it.each([
    // Authorization headers (the scheme is kept)
    ['header', 'Authorization: Bearer abc.def.ghi', `Authorization: Bearer ${R}`],
    ['header, basic', 'authorization: Basic dXNlcjpwYXNz', `authorization: Basic ${R}`],
    ['header, JSON', '{"Authorization":"Bearer tok-123"}', `{"Authorization":"Bearer ${R}"}`],
    ['header, inspect', "headers: { authorization: 'Bearer tok-123' }", `headers: { authorization: 'Bearer ${R}' }`],
    ['header, no scheme', 'authorization=s3cr3t-value', `authorization=${R}`],
    ['header, in parentheses', 'refused (Authorization: Bearer ya29x-1)', `refused (Authorization: Bearer ${R})`],
    // bearer / basic tokens anywhere
    ['bearer token', 'invalid bearer token: Bearer secret-token-123', `invalid bearer token: Bearer ${R}`],
    ['basic credential', 'sent Basic dXNlcjpwYXNzd29yZA== to the registry', `sent Basic ${R} to the registry`],
    // JWTs and Google tokens
    ['JWT', `token ${JWT} end`, `token ${R} end`],
    ['ya29', 'got ya29.a0AfH6SMC-token_value.x back', `got ${R} back`],
    ['Google field, no separator', 'invalid refresh_token 1//0gAbc-def_123 given', `invalid refresh_token ${R} given`],
    // passwords in URLs
    ['URL password', 'fetching https://ci:hunter2@registry.example/v2/', `fetching https://ci:${R}@registry.example/v2/`],
    // --token arguments
    ['--token arg', 'kubectl apply --token abc123 -f -', `kubectl apply --token ${R} -f -`],
    ['--token=arg', 'kubectl --token=abc123', `kubectl --token=${R}`],
    // fields: JSON
    ['JSON password', '{"password": "hunter2", "user": "ci"}', `{"password": "${R}", "user": "ci"}`],
    ['JSON auth', '{"auths":{"r.example":{"auth":"dXNlcjpwYXNz"}}}', `{"auths":{"r.example":{"auth":"${R}"}}}`],
    ['JSON identitytoken', '{"identitytoken":"refresh-xyz"}', `{"identitytoken":"${R}"}`],
    ['JSON escaped quote', '{"secret":"a\\"b"}', `{"secret":"${R}"}`],
    ['escaped JSON', 'body: {\\"token\\":\\"abc123\\"}', `body: {\\"token\\":\\"${R}\\"}`],
    ['JSON client_secret', '{"client_secret":"GOCSPX-abc"}', `{"client_secret":"${R}"}`],
    ['JSON private_key', '{"private_key":"xyz","type":"service_account"}', `{"private_key":"${R}","type":"service_account"}`],
    ['JSON id_token', '{"id_token":"abc.def"}', `{"id_token":"${R}"}`],
    // fields: YAML
    ['YAML client-key-data', 'client-key-data: LS0tLS1CRUdJTg==', `client-key-data: ${R}`],
    ['YAML client-certificate-data', '  client-certificate-data: LS0tQ0VSVA==', `  client-certificate-data: ${R}`],
    ['YAML token', 'users:\n- user:\n    token: kube-abc\n', `users:\n- user:\n    token: ${R}\n`],
    ['YAML id-token / refresh-token', 'id-token: aaa\nrefresh-token: bbb', `id-token: ${R}\nrefresh-token: ${R}`],
    ['YAML access-token quoted', "access-token: 'ccc'", `access-token: '${R}'`],
    ['YAML passwd', 'passwd: p4ss', `passwd: ${R}`],
    // fields: key=value and query strings
    ['key=value', 'password=hunter2 user=ci', `password=${R} user=ci`],
    ['query', 'https://x/token?access_token=abcd1234&x=1', `https://x/token?access_token=${R}&x=1`],
    ['query refresh_token', 'grant_type=refresh_token&refresh_token=r-123&service=s', `grant_type=refresh_token&refresh_token=${R}&service=s`],
    // PEM private keys
    ['PEM', `key:\n${PEM}\ndone`, `key:\n${R}\ndone`],
    ['PEM, RSA', '-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----', R],
    ['PEM, cut short', 'oops -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE', `oops ${R}`],
    ['PGP private key', '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBG\n-----END PGP PRIVATE KEY BLOCK-----', R],
  ])('%s', (_what, input, want) => {
    expect(new Redactor().redact(input)).toBe(want)
  })
})

describe('Redactor: no over-redaction', () => {
  it.each([
    'requests tokens in batches; tokens expire',
    'the token service auth.example.com for r.example rejected the credentials (HTTP 401; credentials tried: docker config auths)',
    `pinned ${DIGEST_REF}`,
    'localhost:5000/team/app@sha256:' + '0'.repeat(64),
    'https://registry.example:5000/v2/team/app/manifests/v1',
    'r.example sent a Bearer challenge without a realm',
    'asks for basic auth (realm test-realm)',
    'use Basic authentication or a token',
    'WWW-Authenticate: Bearer realm="https://auth.example/token",service="r"',
    'send a Bearer Token',
    'not deployed: REGISTRY_AUTH: cannot resolve gcr.io/p/app:1',
    'Error [API_AUTH]: reading the policy was refused',
    'binaryAuthorization: {useDefault: true}',
    'secret:\n  secretName: db',
    'kind: Secret',
    'imagePullSecrets: [{name: regcred}]',
    'oauth=1 author: me',
    'PUBLIC KEY -----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----',
    'pass --token-file FILE',
    'the refresh_token grant failed; no id_token returned',
  ])('%s', (input) => {
    expect(new Redactor().redact(input)).toBe(input)
  })
})

describe('Redactor: learned secrets', () => {
  it('masks exact values registered at run time, however they look', () => {
    const r = new Redactor()
    r.add('hunter22')
    expect(r.redact('password hunter22 here')).toBe(`password ${R} here`)
    expect(r.redact('x=hunter22hunter22')).toBe(`x=${R}${R}`)
  })
  it('addBasic registers the password and base64 user:password', () => {
    const r = new Redactor()
    r.addBasic('ci', 'pa55-word')
    const b64 = Buffer.from('ci:pa55-word').toString('base64')
    expect(r.redact(`auths: ${b64} / pa55-word`)).toBe(`auths: ${R} / ${R}`)
    // the base64 form without the "auth" key or a scheme around it
    expect(r.redact(`X${b64}X`)).toBe(`X${R}X`)
  })
  it('a secret containing another is masked whole; short values and parts of the placeholder are ignored', () => {
    const r = new Redactor()
    r.add('abcd')
    r.add('xxabcdxx')
    expect(r.redact('[xxabcdxx] [abcd]')).toBe(`[${R}] [${R}]`)
    r.add('pw')
    r.add('REDACTED')
    r.add(undefined)
    expect(r.redact('pw REDACTED')).toBe('pw REDACTED')
  })
  it('the process-wide instance is what redact() and redactValue() use', () => {
    redactor.add('process-wide-SECRET-1')
    expect(redact('x process-wide-SECRET-1 y')).toBe(`x ${R} y`)
    expect(redactValue({error: {message: 'a process-wide-SECRET-1', errors: [{hint: 'Bearer tok-123'}]}, exitCode: 4})).toEqual({
      error: {message: `a ${R}`, errors: [{hint: `Bearer ${R}`}]},
      exitCode: 4,
    })
  })
})

describe('Redactor: idempotence', () => {
  const samples = [
    'Authorization: Bearer abc.def.ghi',
    'authorization=xyz',
    '{"password": "hunter2"}',
    'token: Bearer secret-token-123',
    `${JWT} ya29.abc`,
    'https://u:p@h/x',
    '--token abc',
    PEM,
    'token=[REDACTED]]abc',
    'secret: "[REDACTED]"',
    'Basic dXNlcjpwYXNz',
    '{\\"token\\":\\"abc\\"}',
    'auth: \'x\' auth=y&auth="z"',
  ]
  it.each(samples)('redact(redact(%j)) === redact(…)', (input) => {
    const r = new Redactor()
    r.add('hunter2')
    const once = r.redact(input)
    expect(r.redact(once)).toBe(once)
  })
  it('holds for arbitrary text built from credential-shaped pieces', () => {
    const pieces = fc.constantFrom(
      'Authorization',
      'authorization: ',
      'Bearer ',
      '(',
      ')',
      ';',
      'basic ',
      'token',
      'password',
      '=',
      ': ',
      '"',
      "'",
      '\\"',
      ' ',
      '\n',
      ',',
      '&',
      '?',
      '{',
      '}',
      '[',
      ']',
      'eyJabcdef.eyJabcdef.sig',
      'ya29.x',
      '//u:',
      '@',
      '/',
      '--token ',
      '-----BEGIN PRIVATE KEY-----',
      '-----END PRIVATE KEY-----',
      'abc123XYZ',
      'hunter22',
      'REDACTED',
      R,
      'client-key-data',
      'secret',
      'auth',
      'realm="',
      'Token',
      'Authentication',
      'refresh_token ',
      '1//0g-x_y',
      '--password=',
      'BASIC ',
      'access_token',
    )
    const r = new Redactor()
    r.add('hunter22')
    r.add('abc123XYZ')
    fc.assert(
      fc.property(fc.array(pieces, {maxLength: 24}), (parts) => {
        const once = r.redact(parts.join(''))
        return r.redact(once) === once
      }),
      {numRuns: 3000},
    )
  })
})
