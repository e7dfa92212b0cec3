/** The one output-format decision (src/cli/options.ts outputFormat): -o in every spelling oclif accepts, --json as -o json. */
import {describe, expect, it} from '@jest/globals'
import {isDocumentFormat, outputFormat} from '../../../src/cli/options.js'

describe('outputFormat', () => {
  it('is undefined (the human output) without -o or --json', () => {
    expect(outputFormat([])).toBeUndefined()
    expect(outputFormat(['-f', 'k8s/', '--yes'])).toBeUndefined()
  })

  it.each([
    [['-o', 'yaml'], 'yaml'],
    [['-oyaml'], 'yaml'],
    [['-o=name'], 'name'],
    [['--output', 'wide'], 'wide'],
    [['--output=json'], 'json'],
    [['--json'], 'json'],
    [['-f', 'a.yaml', '-o', 'name', '-R'], 'name'],
  ])('%j → %s', (argv, format) => {
    expect(outputFormat(argv)).toBe(format)
  })

  it("ignores what comes after -- (kubectl's arguments)", () => {
    expect(outputFormat(['-f', 'k8s/', '--', '-o', 'yaml'])).toBeUndefined()
    expect(outputFormat(['-o', 'name', '--', '--json'])).toBe('name')
  })

  it("leaves an unknown value to oclif's parser (which names the options)", () => {
    expect(outputFormat(['-o', 'table'])).toBeUndefined()
    expect(outputFormat(['-o'])).toBeUndefined()
  })

  it('json and yaml are the --json document; name and wide are not', () => {
    expect([isDocumentFormat('json'), isDocumentFormat('yaml'), isDocumentFormat('name'), isDocumentFormat('wide'), isDocumentFormat(undefined)]).toEqual([
      true,
      true,
      false,
      false,
      false,
    ])
  })
})
