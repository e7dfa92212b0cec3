import {describe, expect, it} from '@jest/globals'
import {formatBytes} from '../../../../src/adapters/registry/client.js'
import {digestTag, isBundleArtifactType, readAnnotations, readDescriptor} from '../../../../src/adapters/registry/signatures.js'

const D = 'sha256:' + 'ab'.repeat(32)

describe('registry signature helpers', () => {
  it.each([
    ['application/vnd.dev.sigstore.bundle.v0.3+json', true],
    ['application/vnd.dev.sigstore.bundle.v0.2+json', true],
    ['application/vnd.dev.sigstore.bundle+json;version=0.1', true],
    ['application/vnd.dev.sigstore.bundle+json; version=0.2', true],
    ['application/vnd.dev.cosign.artifact.sig.v1+json', true],
    ['application/vnd.dev.sigstore.bundle.v1.0+json', false],
    ['application/spdx+json', false],
    ['', false],
  ])('isBundleArtifactType(%j) is %j', (type, expected) => {
    expect(isBundleArtifactType(type)).toBe(expected)
  })

  it('digestTag: the tags cosign derives from a digest', () => {
    expect(digestTag(D, '.sig')).toBe(`sha256-${'ab'.repeat(32)}.sig`)
    expect(digestTag(D, '.att')).toBe(`sha256-${'ab'.repeat(32)}.att`)
    expect(digestTag(D, '')).toBe(`sha256-${'ab'.repeat(32)}`)
  })

  it('readDescriptor: untrusted JSON in, a checked descriptor or nothing out', () => {
    expect(readDescriptor({mediaType: 'm', digest: D, size: 3, artifactType: 'a', annotations: {k: 'v', n: 1}})).toEqual({
      mediaType: 'm',
      digest: D,
      size: 3,
      artifactType: 'a',
      annotations: {k: 'v'},
    })
    expect(readDescriptor({digest: D, size: -1})).toBeUndefined()
    expect(readDescriptor({digest: D, size: 1.5})).toBeUndefined()
    expect(readDescriptor({digest: 'sha256:AB', size: 1})).toBeUndefined()
    expect(readDescriptor({digest: D})).toBeUndefined()
    expect(readDescriptor(null)).toBeUndefined()
    expect(readAnnotations(['x'])).toEqual({})
  })

  it('formatBytes: limits as messages state them', () => {
    expect(formatBytes(4 * 1024 * 1024)).toBe('4 MiB')
    expect(formatBytes(16 * 1024 * 1024)).toBe('16 MiB')
    expect(formatBytes(2048)).toBe('2 KiB')
    expect(formatBytes(1000)).toBe('1000 bytes')
  })
})
