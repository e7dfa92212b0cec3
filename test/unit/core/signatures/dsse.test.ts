import {describe, expect, it} from '@jest/globals'
import {dsse} from '@sigstore/core'
import {preAuthEncoding} from '../../../../src/core/signatures/dsse.js'

describe('preAuthEncoding (DSSE PAE)', () => {
  it.each([
    ['application/vnd.in-toto+json', '{"_type":"https://in-toto.io/Statement/v1"}'],
    ['', ''],
    ['tÿpe/ünicode', 'bytes with ünicode and \u0000 NUL'],
  ])('is byte-identical to @sigstore/core for type %j', (type, body) => {
    const payload = Buffer.from(body, 'utf8')
    expect(preAuthEncoding(type, payload).equals(dsse.preAuthEncoding(type, payload))).toBe(true)
  })

  it('counts bytes, not characters', () => {
    expect(preAuthEncoding('é', Buffer.from('€')).toString('utf8')).toBe('DSSEv1 2 é 3 €')
  })
})
