import {describe, expect, it} from '@jest/globals'
import {parseMirrors} from '../../../src/cli/options.js'

describe('parseMirrors: --registry-mirror FROM=TO, parsed once', () => {
  it.each([
    [['docker.io=mirror.example.com:5000'], [['docker.io', {host: 'mirror.example.com:5000'}]]],
    [['docker.io=https://mirror.example.com/'], [['docker.io', {host: 'mirror.example.com'}]]],
    [['gcr.io=http://127.0.0.1:5000//'], [['gcr.io', {host: '127.0.0.1:5000', insecure: true}]]],
    [
      ['a.io=m1', 'b.io=m2', 'a.io=m3'],
      [
        ['a.io', {host: 'm3'}],
        ['b.io', {host: 'm2'}],
      ],
    ],
    [undefined, []],
  ])('%j', (values, want) => {
    expect([...parseMirrors(values)]).toEqual(want)
  })

  it.each(['docker.io', '=mirror', 'docker.io=', 'docker.io=http://', 'docker.io=https:///'])('%s → USAGE', (value) => {
    expect(() => parseMirrors([value])).toThrowWithCode('USAGE', /--registry-mirror expects FROM=TO \(e\.g\. docker\.io=mirror\.example\.com:5000\), got "/)
  })
})
