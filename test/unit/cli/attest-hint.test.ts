import {describe, expect, it} from '@jest/globals'
import {attestHint} from '../../../src/cli/wiring.js'

const flags = {concurrency: 8, 'registry-timeout': 30, retries: 3}

describe('attestHint: the trust sources of the invocation, as attest flags', () => {
  it('files: attestors and attestations directories (the project is not used)', () => {
    expect(attestHint({policy: 'p.yaml', attestors: 'att', attestations: 'atts', project: 'x'}, flags)).toEqual({attestors: 'att', outputDir: 'atts'})
  })

  it('the APIs: the project, and the endpoints of this invocation', () => {
    expect(
      attestHint({project: 'acme'}, {...flags, 'binauthz-endpoint': 'http://127.0.0.1:1', 'containeranalysis-endpoint': '127.0.0.1:2', 'api-insecure': true}),
    ).toEqual({project: 'acme', extra: ['--binauthz-endpoint', 'http://127.0.0.1:1', '--containeranalysis-endpoint', '127.0.0.1:2', '--api-insecure']})
  })

  it('mixed: attestors from a directory, attestations from the project', () => {
    expect(attestHint({policy: 'p.yaml', attestors: 'att', project: 'acme'}, flags)).toEqual({attestors: 'att', project: 'acme'})
  })
})
