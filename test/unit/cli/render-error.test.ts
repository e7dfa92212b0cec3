import {describe, expect, it} from '@jest/globals'
import {renderError} from '../../../src/cli/base.js'
import {SafeDeployError, aggregateErrors} from '../../../src/core/errors.js'

const plainHttp = (i: number): SafeDeployError =>
  new SafeDeployError('REGISTRY_TLS', `cannot resolve 127.0.0.1:5000/app${i}:1: 127.0.0.1:5000 answered plain HTTP to a TLS request`, {
    hint: 'pass --insecure-registry 127.0.0.1:5000',
    location: {image: `127.0.0.1:5000/app${i}:1`},
    remote: {host: '127.0.0.1:5000', reason: '127.0.0.1:5000 answered plain HTTP to a TLS request'},
  }).at({file: 'a.yaml', document: i, path: 'spec.containers[0].image', line: 7 + 8 * i, image: `127.0.0.1:5000/app${i}:1`})

describe('renderError', () => {
  it('prints the message as is: a location is never added a second time', () => {
    const e = new SafeDeployError('UNPINNABLE_VALUE', 'h.yaml: document 1: spec.x.image (line 10): "{{ .image }}" is a Helm template', {
      location: {file: 'h.yaml', document: 0, path: 'spec.x.image', line: 10, image: '{{ .image }}'},
    })
    expect(renderError(e)).toBe('Error [UNPINNABLE_VALUE]: h.yaml: document 1: spec.x.image (line 10): "{{ .image }}" is a Helm template\n')
  })

  it('a cause shared by 400 images: once, with the count, three examples and the rest counted', () => {
    const text = renderError(
      aggregateErrors(
        Array.from({length: 400}, (_, i) => plainHttp(i)),
        'image',
      ),
    )
    expect(text).toBe(
      [
        'Error [REGISTRY_TLS]: 400 image problems; nothing was written or deployed:',
        '  - 127.0.0.1:5000 answered plain HTTP to a TLS request (400 images)',
        '      a.yaml: document 1: spec.containers[0].image (line 7): image 127.0.0.1:5000/app0:1',
        '      a.yaml: document 2: spec.containers[0].image (line 15): image 127.0.0.1:5000/app1:1',
        '      a.yaml: document 3: spec.containers[0].image (line 23): image 127.0.0.1:5000/app2:1',
        '      and 397 more (every one with --json)',
        'Hint: pass --insecure-registry 127.0.0.1:5000',
        '',
      ].join('\n'),
    )
  })

  it('distinct problems are listed one by one, with their own hints', () => {
    const a = new SafeDeployError('INVALID_INPUT', 'x.yaml: document 1: bad', {hint: 'fix 1'})
    const b = new SafeDeployError('INVALID_INPUT', 'x.yaml: document 2: worse', {hint: 'fix 2'})
    expect(renderError(aggregateErrors([a, b], 'input'))).toBe(
      [
        'Error [INVALID_INPUT]: 2 input problems; nothing was written or deployed:',
        '  - x.yaml: document 1: bad',
        '  - x.yaml: document 2: worse',
        '    hint: fix 2',
        'Hint: fix 1',
        '',
      ].join('\n'),
    )
  })
})
