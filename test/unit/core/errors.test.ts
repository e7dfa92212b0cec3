import {describe, expect, it} from '@jest/globals'
import {SafeDeployError, aggregateErrors, groupErrors} from '../../../src/core/errors.js'

const plainHttp = (image: string, host = '127.0.0.1:5000'): SafeDeployError =>
  new SafeDeployError('REGISTRY_TLS', `cannot resolve ${image}: ${host} answered plain HTTP to a TLS request`, {
    hint: `pass --insecure-registry ${host}`,
    location: {image},
    remote: {host, reason: `${host} answered plain HTTP to a TLS request`},
  })

describe('SafeDeployError.at', () => {
  it('says the location once, in front of the message, keeping code, hint, cause and host', () => {
    const cause = new Error('boom')
    const e = new SafeDeployError('REGISTRY_TLS', 'cannot resolve r/a:1: x', {hint: 'h', cause, location: {image: 'r/a:1'}, remote: {host: 'r', reason: 'x'}})
    const at = e.at({file: 'f.yaml', document: 0, path: 'spec.containers[0].image', line: 7, image: 'r/a:1'})
    expect(at.message).toBe('f.yaml: document 1: spec.containers[0].image (line 7): cannot resolve r/a:1: x')
    expect(at).toMatchObject({code: 'REGISTRY_TLS', hint: 'h', cause, remote: {host: 'r', reason: 'x'}})
    expect(at.location).toEqual({file: 'f.yaml', document: 0, path: 'spec.containers[0].image', line: 7, image: 'r/a:1'})
  })
})

describe('groupErrors', () => {
  it('one group per code, host and reason, in order of first appearance, with a count', () => {
    const other = new SafeDeployError('REGISTRY_NOT_FOUND', 'cannot resolve r/b:1: tag "1" not found')
    const groups = groupErrors([plainHttp('a'), other, plainHttp('b'), plainHttp('c', '10.0.0.1:5000'), plainHttp('d')], 'image')
    expect(groups.map((g) => [g.summary, g.errors.length])).toEqual([
      ['127.0.0.1:5000 answered plain HTTP to a TLS request (3 images)', 3],
      ['cannot resolve r/b:1: tag "1" not found', 1],
      ['cannot resolve c: 10.0.0.1:5000 answered plain HTTP to a TLS request', 1],
    ])
  })

  it('a different code or hint is a different cause', () => {
    const timeout = new SafeDeployError('REGISTRY_TIMEOUT', 'cannot resolve x: slow', {
      remote: {host: '127.0.0.1:5000', reason: '127.0.0.1:5000 answered plain HTTP to a TLS request'},
    })
    expect(groupErrors([plainHttp('a'), timeout, plainHttp('b')], 'image')).toHaveLength(2)
  })
})

describe('aggregateErrors', () => {
  it('keeps every error (for --json) and groups them for people', () => {
    const errs = Array.from({length: 400}, (_, i) => plainHttp(`127.0.0.1:5000/app${i}:1`))
    const agg = aggregateErrors(errs, 'image')
    expect(agg.message).toBe('400 image problems; nothing was written or deployed:')
    expect(agg.errors).toHaveLength(400)
    expect(agg.toJSON().errors).toHaveLength(400)
    expect(agg.groups).toHaveLength(1)
    expect(agg.hint).toBe('pass --insecure-registry 127.0.0.1:5000')
  })

  it('lists each problem of an error that lists several once (no summary repeating the first)', () => {
    const a = new SafeDeployError('INVALID_INPUT', 'x.yaml: document 1: bad')
    const b = new SafeDeployError('INVALID_INPUT', 'x.yaml: document 2: bad')
    const file = new SafeDeployError('INVALID_INPUT', 'x.yaml: 2 problems reading the manifest:', {errors: [a, b]})
    const c = new SafeDeployError('INVALID_INPUT', 'y.yaml: bad')
    const agg = aggregateErrors([file, c], 'input')
    expect(agg.errors).toEqual([a, b, c])
    expect(agg.message).toBe('3 input problems; nothing was written or deployed:')
  })
})
