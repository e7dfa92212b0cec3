import {describe, expect, it} from '@jest/globals'
import {
  parseAttestorName,
  parseClusterName,
  parseKmsKeyVersionName,
  parseLegacyNoteName,
  parseLocationPolicyName,
  parseNoteName,
  parseProjectPolicyName,
  parseServiceName,
  projectOf,
} from '../../../src/core/resource-names.js'

describe('resource names', () => {
  it('projectOf takes the project of any projects/P name', () => {
    expect(projectOf('projects/p1/attestors/a')).toBe('p1')
    expect(projectOf('projects/p1')).toBe('p1')
    expect(projectOf('locations/global/policy')).toBeUndefined()
  })

  it('parses each form into its parts, and nothing else', () => {
    expect(parseAttestorName('projects/p/attestors/a')).toEqual({project: 'p', attestor: 'a'})
    expect(parseAttestorName('projects/p/attestors/a/b')).toBeUndefined()
    expect(parseAttestorName('a')).toBeUndefined()
    expect(parseNoteName('projects/p/notes/n')).toEqual({project: 'p', note: 'n'})
    expect(parseLegacyNoteName('providers/p/notes/n')).toEqual({provider: 'p', note: 'n'})
    expect(parseProjectPolicyName('projects/p/policy')).toEqual({project: 'p'})
    expect(parseLocationPolicyName('locations/global/policy')).toEqual({location: 'global'})
    expect(parseKmsKeyVersionName('projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1')).toEqual({
      project: 'p',
      location: 'l',
      keyRing: 'r',
      cryptoKey: 'k',
      version: '1',
    })
    expect(parseClusterName('projects/p/locations/us-central1/clusters/c')).toEqual({project: 'p', location: 'us-central1', cluster: 'c'})
    expect(parseServiceName('projects/p/locations/r/services/s')).toEqual({project: 'p', location: 'r', service: 's'})
  })

  it('noSpace refuses whitespace inside a part', () => {
    expect(parseAttestorName('projects/p q/attestors/a')).toEqual({project: 'p q', attestor: 'a'})
    expect(parseAttestorName('projects/p q/attestors/a', {noSpace: true})).toBeUndefined()
    expect(parseNoteName('projects/p/notes/n\n', {noSpace: true})).toBeUndefined()
  })
})
