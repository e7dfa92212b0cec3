/** The action reference `init` writes when --action-ref is not given: package.json `repository` at vVERSION. */
import {describe, expect, it} from '@jest/globals'
import {readFileSync} from 'node:fs'
import {defaultActionRef} from '../../../src/cli/init.js'
import {isActionRef} from '../../../src/core/init-plan.js'

describe('defaultActionRef', () => {
  it.each([
    ['git+https://github.com/acme/safe-deploy.git', 'acme/safe-deploy@v1.2.3'],
    ['https://github.com/acme/safe-deploy', 'acme/safe-deploy@v1.2.3'],
    ['git@github.com:acme/safe-deploy.git', 'acme/safe-deploy@v1.2.3'],
    ['github:acme/safe-deploy', 'acme/safe-deploy@v1.2.3'],
    ['acme/safe-deploy', 'acme/safe-deploy@v1.2.3'],
  ])('%s (as a string or {url})', (url, ref) => {
    expect(defaultActionRef({version: '1.2.3', repository: url})).toBe(ref)
    expect(defaultActionRef({version: '1.2.3', repository: {type: 'git', url}})).toBe(ref)
  })
  it('no GitHub repository: none (init then asks for --action-ref when it writes GitHub workflows)', () => {
    expect(defaultActionRef({version: '1.2.3'})).toBeUndefined()
    expect(defaultActionRef({version: '1.2.3', repository: 'https://gitlab.com/acme/safe-deploy.git'})).toBeUndefined()
  })
  it("this package's own default is a valid reference at its version tag", () => {
    const pjson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version: string}
    const ref = defaultActionRef(pjson)
    expect(ref).toMatch(new RegExp(`@v${pjson.version.replaceAll('.', '\\.')}$`))
    expect(isActionRef(ref as string)).toBe(true)
  })
})
