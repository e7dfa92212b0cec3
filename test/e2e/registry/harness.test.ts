import {afterAll, beforeAll, describe, expect, it} from '@jest/globals'
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {startRegistry, type StartRegistryOptions, type TestRegistry} from '../../support/registry.js'
import {startFaultProxy, type FaultProxy} from '../../support/fault-proxy.js'

const execFileP = promisify(execFile)

async function head(url: string, headers: Record<string, string> = {}): Promise<{status: number; digest: string | null}> {
  const r = await fetch(url, {
    method: 'HEAD',
    headers: {
      Accept:
        'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json',
      ...headers,
    },
  })
  return {status: r.status, digest: r.headers.get('docker-content-digest')}
}

describe('test harness: plain registry + fault proxy', () => {
  let reg: TestRegistry
  let proxy: FaultProxy
  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startFaultProxy(reg.url)
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  it('pushes single, multi-arch and docker images; skopeo agrees on the digests', async () => {
    const single = await reg.pushImage('demo/app', 'single')
    const multi = await reg.pushImage('demo/app', 'multi', {platforms: ['linux/amd64', 'linux/arm64']})
    const docker = await reg.pushImage('demo/docker', 'list', {platforms: ['linux/amd64', 'linux/arm/v7'], mediaTypes: 'docker'})
    expect(Object.keys(multi.children ?? {})).toEqual(['linux/amd64', 'linux/arm64'])
    for (const [ref, want] of [
      ['demo/app:single', single.digest],
      ['demo/app:multi', multi.digest],
      ['demo/docker:list', docker.digest],
    ] as const) {
      expect((await head(`${reg.url}/v2/${ref.replace(':', '/manifests/')}`)).digest).toBe(want)
      const {stdout} = await execFileP('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${reg.host}/${ref}`])
      expect(stdout.trim()).toBe(want)
    }
  })

  it('pushManyTags pushes 200 distinct tags', async () => {
    const tags = await reg.pushManyTags('demo/many', 200, 'x')
    expect(tags.size).toBe(200)
    expect(new Set(tags.values()).size).toBe(200)
    expect((await head(`${reg.url}/v2/demo/many/manifests/x137`)).digest).toBe(tags.get('x137'))
  })

  it('fault proxy: status n times, override headers, then forwards', async () => {
    const {digest} = await reg.pushImage('demo/p', 'v1')
    const fault = {status: 503, times: 2}
    proxy.script(() => fault)
    expect((await head(`${proxy.url}/v2/demo/p/manifests/v1`)).status).toBe(503)
    expect((await head(`${proxy.url}/v2/demo/p/manifests/v1`)).status).toBe(503)
    expect(await head(`${proxy.url}/v2/demo/p/manifests/v1`)).toEqual({status: 200, digest})
    proxy.script(() => ({overrideHeaders: {'Docker-Content-Digest': 'sha256:' + '0'.repeat(64)}}))
    expect((await head(`${proxy.url}/v2/demo/p/manifests/v1`)).digest).toBe('sha256:' + '0'.repeat(64))
    proxy.script(undefined)
    expect(proxy.requests.length).toBe(4)
  })
})

describe('test harness: auth and TLS modes', () => {
  it.each<[StartRegistryOptions]>([[{auth: 'htpasswd'}], [{auth: 'token'}], [{tls: true}], [{tls: true, auth: 'token'}]])(
    '%j: push works and anonymous/untrusted access is refused',
    async (opts) => {
      const reg = await startRegistry(opts)
      try {
        const {digest} = await reg.pushImage('demo/app', 'v1', {platforms: ['linux/amd64', 'linux/arm64']})
        const args = ['inspect', '--format', '{{.Digest}}']
        if (reg.caFile !== undefined) args.push('--cert-dir', reg.dir + '/certs.d')
        else args.push('--tls-verify=false')
        if (opts.auth !== undefined) args.push('--creds', `${reg.user}:${reg.password}`)
        if (reg.caFile !== undefined) {
          const {mkdir, copyFile} = await import('node:fs/promises')
          await mkdir(reg.dir + '/certs.d', {recursive: true})
          await copyFile(reg.caFile, reg.dir + '/certs.d/ca.crt')
        }
        const {stdout} = await execFileP('skopeo', [...args, `docker://${reg.host}/demo/app:v1`])
        expect(stdout.trim()).toBe(digest)
        if (opts.auth === 'token') expect(reg.tokenServer?.tokenRequests).toBeGreaterThan(0)
        if (reg.caFile !== undefined) await expect(head(`${reg.url}/v2/demo/app/manifests/v1`)).rejects.toThrow()
        else expect((await head(`${reg.url}/v2/demo/app/manifests/v1`)).status).toBe(401)
      } finally {
        await reg.stop()
      }
    },
  )
})
