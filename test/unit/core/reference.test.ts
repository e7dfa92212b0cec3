import {describe, expect, it} from '@jest/globals'
import {parseReference, parseWritten, pinnedReference, familiarName} from '../../../src/core/reference/index.js'

const D = 'sha256:' + 'a'.repeat(64)

describe('parseReference: Docker normalization', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['index.docker.io/nginx', 'docker.io', 'library/nginx', undefined, undefined],
    ['bitnami/redis:7', 'docker.io', 'bitnami/redis', '7', undefined],
    ['docker.io/library/foo/bar', 'docker.io', 'library/foo/bar', undefined, undefined],
    ['gcr.io/p/app:v1', 'gcr.io', 'p/app', 'v1', undefined],
    [`gcr.io/p/app:v1@${D}`, 'gcr.io', 'p/app', 'v1', D],
    [`gcr.io/p/app@${D}`, 'gcr.io', 'p/app', undefined, D],
    ['localhost/foo', 'localhost', 'foo', undefined, undefined],
    ['localhost:5000/foo:bar', 'localhost:5000', 'foo', 'bar', undefined],
    ['foo:5000', 'docker.io', 'library/foo', '5000', undefined],
    ['example.com', 'docker.io', 'library/example.com', undefined, undefined],
    ['127.0.0.1:5000/a/b:c', '127.0.0.1:5000', 'a/b', 'c', undefined],
    ['[::1]:5000/foo', '[::1]:5000', 'foo', undefined, undefined],
    ['Docker/docker', 'Docker', 'docker', undefined, undefined],
    ['registry-1.docker.io/nginx', 'registry-1.docker.io', 'nginx', undefined, undefined],
    ['us-docker.pkg.dev/p/r/app:1.4', 'us-docker.pkg.dev', 'p/r/app', '1.4', undefined],
    ['a__b/c--d/e.f_g:Tag_1.0-x', 'docker.io', 'a__b/c--d/e.f_g', 'Tag_1.0-x', undefined],
  ])('%s', (input, domain, path, tag, digest) => {
    expect(parseReference(input)).toEqual({domain, path, tag, digest})
  })
})

describe('parseReference: rejects with the reason', () => {
  it.each([
    ['', /at least one component/],
    ['a'.repeat(64), /64-byte hexadecimal/],
    ['Nginx', /must be lowercase/],
    ['gcr.io/P/app', /must be lowercase/],
    ['nginx:-bad', /invalid tag/],
    ['nginx:' + 'a'.repeat(129), /at most 128/],
    ['nginx@sha256:abc', /malformed digest|invalid checksum digest length/],
    [`nginx@sha256:${'A'.repeat(64)}`, /lowercase/],
    [`nginx@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
    [`nginx@sha256:${'a'.repeat(63)}`, /digest length/],
    ['a/' + 'b'.repeat(255), /255 characters/],
    ['gcr.io//app', /empty path component|invalid reference/],
    ['gcr.io/app/', /empty path component|invalid reference/],
    ['{{ .Values.image }}', /whitespace|invalid reference/],
    ['${IMAGE}', /not allowed|invalid reference/],
    ['ko://github.com/x/y', /invalid reference/],
    ['gcr.io/a___b', /invalid reference/],
    ['[fe80::1%eth0]:5000/foo', /invalid reference|not allowed/],
  ])('%s', (input, re) => {
    expect(() => parseReference(input)).toThrowWithCode('INVALID_REFERENCE', re)
  })
})

describe('written form and pinning keep the name as written', () => {
  it.each([
    ['nginx:1.25', 'nginx:1.25@' + D, 'nginx@' + D],
    ['nginx', 'nginx@' + D, 'nginx@' + D],
    ['localhost:5000/foo', 'localhost:5000/foo@' + D, 'localhost:5000/foo@' + D],
    ['gcr.io/p/app:v1', 'gcr.io/p/app:v1@' + D, 'gcr.io/p/app@' + D],
  ])('%s', (input, pinned, stripped) => {
    const w = parseWritten(input)
    expect(pinnedReference(w, D)).toBe(pinned)
    expect(pinnedReference(w, D, {stripTag: true})).toBe(stripped)
  })
  it('familiar name', () => {
    expect(familiarName(parseReference('docker.io/library/nginx:1'))).toBe('nginx')
    expect(familiarName(parseReference('docker.io/bitnami/redis'))).toBe('bitnami/redis')
    expect(familiarName(parseReference('gcr.io/p/a'))).toBe('gcr.io/p/a')
  })
})
