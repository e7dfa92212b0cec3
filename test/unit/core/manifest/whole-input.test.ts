/** What kubectl refuses about a whole input: no object at all, and objects in another namespace than -n. */
import {describe, expect, it} from '@jest/globals'
import {inputNamespaceMismatch, namespaceMismatch, noObjectsProblem} from '../../../../src/core/manifest/whole-input.js'
import {manifestObjects} from '../../../../src/core/manifest/objects.js'

const cm = (name: string, namespace?: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${namespace === undefined ? '' : `  namespace: ${namespace}\n`}data: {a: b}\n`

describe('noObjectsProblem (kubectl: "no objects passed to apply")', () => {
  it.each([
    ['an empty stdin', [{file: '-', text: ''}], /^no objects passed: <stdin> is empty$/],
    ['whitespace only', [{file: '-', text: '\n  \n'}], /^no objects passed: <stdin> is empty$/],
    [
      'comments and document markers',
      [{file: '-', text: '# nothing rendered\n---\n---\n...\n'}],
      /^no objects passed: <stdin> holds only comments or empty documents$/,
    ],
    ['null documents', [{file: 'a.yaml', text: '---\nnull\n---\n~\n'}], /^no objects passed: a\.yaml holds only comments or empty documents$/],
    [
      'several inputs, none with an object',
      [
        {file: 'a.yaml', text: '# a\n'},
        {file: '-', text: ''},
      ],
      /^no objects passed: no Kubernetes object in a\.yaml, <stdin>$/,
    ],
  ])('%s → INVALID_INPUT', (_what, files, message) => {
    const p = noObjectsProblem(files)
    expect(p?.code).toBe('INVALID_INPUT')
    expect(p?.message).toMatch(message)
    expect(p?.exitCode).toBe(3)
  })

  it('the stdin hint says that the command before the pipe probably failed', () => {
    expect(noObjectsProblem([{file: '-', text: ''}])?.hint).toMatch(/command before the pipe failed/)
    expect(noObjectsProblem([{file: 'a.yaml', text: ''}])?.hint).not.toMatch(/pipe/)
  })

  it('one object anywhere, or text the object reader refuses (reported later where it is read), is not "no objects"', () => {
    expect(
      noObjectsProblem([
        {file: '-', text: ''},
        {file: 'a.yaml', text: cm('x')},
      ]),
    ).toBeUndefined()
    expect(noObjectsProblem([{file: 'a.yaml', text: '- just\n- a list\n'}])).toBeUndefined()
    expect(noObjectsProblem([])).toBeUndefined()
  })
})

describe('namespaceMismatch (kubectl: the namespace from the provided object … does not match the namespace …)', () => {
  it('one namespace: kubectl words, every object named, the --namespace to pass in the hint', () => {
    const objects = manifestObjects(cm('a', 'shop') + '---\n' + cm('b') + '---\n' + cm('c', 'shop'), 'x.yaml')
    const p = namespaceMismatch(objects, 'payments')
    expect(p?.code).toBe('INVALID_INPUT')
    expect(p?.message).toBe(
      'the namespace from the provided objects "shop" does not match the namespace "payments": x.yaml: document 1: ConfigMap/a (namespace shop); x.yaml: document 3: ConfigMap/c (namespace shop)',
    )
    expect(p?.hint).toMatch(/^You must pass '--namespace=shop' to perform this operation/)
    expect(p?.location).toEqual({file: 'x.yaml', document: 0})
  })

  it('several namespaces: all of them in one message', () => {
    const p = namespaceMismatch(manifestObjects(cm('a', 'shop') + '---\n' + cm('b', 'web'), 'x.yaml'), 'payments')
    expect(p?.message).toMatch(/^the namespaces from the provided objects \("shop", "web"\) do not match the namespace "payments": /)
    expect(p?.hint).toMatch(/its own --namespace/)
  })

  it('the same namespace, no namespace, and cluster-scoped kinds are fine; list items are checked one by one', () => {
    expect(namespaceMismatch(manifestObjects(cm('a', 'payments') + '---\n' + cm('b'), 'x.yaml'), 'payments')).toBeUndefined()
    const ns =
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, namespace: other}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: other}\n'
    expect(namespaceMismatch(manifestObjects(ns, 'x.yaml'), 'payments')).toBeUndefined()
    const list =
      'apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: shop}}\n'
    expect(inputNamespaceMismatch([{file: 'l.yaml', text: list}], 'payments')?.message).toMatch(/: l\.yaml: document 1: ConfigMap\/b \(namespace shop\)$/)
  })
})
