/**
 * A real registry for tests: the Debian `docker-registry` (CNCF distribution 2.8) on 127.0.0.1,
 * port 0, temp storage, optional htpasswd / token auth and TLS (docs/testing.md#registry). Images are
 * pushed from Node over the distribution API (POST + PUT blob upload, PUT manifest).
 *
 *   const reg = await startRegistry()                        // or {auth: 'htpasswd'}, {auth: 'token'}, {tls: true}
 *   const {digest} = await reg.pushImage('demo/app', 'v1')   // single OCI manifest, linux/amd64
 *   const multi = await reg.pushImage('demo/app', 'multi', {platforms: ['linux/amd64', 'linux/arm64']})
 *   multi.digest            // the index digest;  multi.children['linux/arm64'] → the child manifest digest
 *   const tags = await reg.pushManyTags('demo/bench', 1000, 't')   // Map t0…t999 → digest, in a few seconds
 *   await reg.stop()        // in afterAll
 *
 * Credentials (auth modes): `reg.user` / `reg.password` (default testuser / testpass). TLS: `reg.caFile`
 * is the self-signed certificate (SAN IP:127.0.0.1, DNS:localhost) to trust. Token mode: `reg.tokenServer`
 * (see token-server.ts; the harness's own pushes mint tokens directly and are not counted).
 */
import {spawn, execFile, type ChildProcess} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import http from 'node:http'
import https from 'node:https'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {gzipSync} from 'node:zlib'
import {makeSelfSignedCert, startTokenServer, type TokenServer} from './token-server.js'

const execFileP = promisify(execFile)

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const

export interface StartRegistryOptions {
  /** Require authentication: htpasswd (Basic, bcrypt) or token (Bearer, via a local token server). Default none. */
  auth?: 'htpasswd' | 'token'
  /** Serve HTTPS with a fresh self-signed certificate (see TestRegistry.caFile). Default false. */
  tls?: boolean
  /** Default 'testuser'. */
  user?: string
  /** Default 'testpass'. */
  password?: string
  /** Token mode: let anonymous callers pull. Default false. */
  anonymousPull?: boolean
  /** TLS mode: the certificate's subjectAltName. Default 'IP:127.0.0.1,DNS:localhost' (set e.g. 'DNS:registry.test' to test a hostname mismatch). */
  tlsSubjectAltName?: string
}

export interface PushImageOptions {
  /** 'os/arch[/variant]' list. One platform → a single manifest; several → an index with one child each. Default ['linux/amd64']. */
  platforms?: string[]
  /** Push an index even for a single platform. */
  index?: boolean
  /** Makes the content distinct; the same (repo, tag, seed, platforms, mediaTypes) gives the same digests. Default `${repo}:${tag}`. */
  seed?: string
  /** OCI (default) or Docker v2 media types (manifest v2 / manifest list). */
  mediaTypes?: 'oci' | 'docker'
}

export interface PushResult {
  /** The digest the tag points to (the index digest for a multi-platform push). */
  digest: string
  /** The manifest media type of the tagged object. */
  mediaType: string
  /** Multi-platform pushes: platform ('os/arch[/variant]') → child manifest digest. */
  children?: Record<string, string>
}

export interface TestRegistry {
  /** '127.0.0.1:PORT' — use it as the registry domain of image references. */
  host: string
  /** 'http://127.0.0.1:PORT' or 'https://…' */
  url: string
  /** TLS mode: the PEM certificate to trust (self-signed, SAN IP:127.0.0.1). */
  caFile?: string
  /** Token mode: the token server the registry trusts. */
  tokenServer?: TokenServer
  /** Auth modes: the accepted credentials. */
  user: string
  password: string
  /** The temp directory holding config, storage and certificates (removed by stop()). */
  dir: string
  pushImage(repo: string, tag: string, opts?: PushImageOptions): Promise<PushResult>
  /** count tags `${prefix}0`…, distinct OCI manifests sharing one config and layer; concurrent PUTs. */
  pushManyTags(repo: string, count: number, prefix?: string): Promise<Map<string, string>>
  /** PUT raw manifest bytes under a tag or digest; returns the registry's digest (checked against sha256(body)). */
  putManifest(repo: string, reference: string, body: Buffer | string, mediaType: string): Promise<string>
  /** Upload a blob (POST + PUT); returns its digest. */
  putBlob(repo: string, body: Buffer | string): Promise<string>
  /** Requests the registry answered so far (its "response completed" log lines; the harness's own pushes included). */
  requestsServed(): number
  stop(): Promise<void>
}

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex')

/** Write a docker config.json ({auths, credHelpers, credsStore}) into dir; returns its path. */
export async function writeDockerConfig(dir: string, config: Record<string, unknown>): Promise<string> {
  await mkdir(dir, {recursive: true})
  const file = join(dir, 'config.json')
  await writeFile(file, JSON.stringify(config, null, 2))
  return file
}

/** The `auths` entry for user:password. */
export const basicAuthEntry = (user: string, password: string): {auth: string} => ({auth: Buffer.from(`${user}:${password}`).toString('base64')})

/** A one-file tar (ustar) with the given content, so layers are real tar+gzip. */
function tinyTar(name: string, content: string): Buffer {
  const body = Buffer.from(content)
  const header = Buffer.alloc(512)
  header.write(name, 0, 100)
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\x0000', 257)
  let sum = 0
  for (const b of header) sum += b
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512)
  return Buffer.concat([header, body, pad, Buffer.alloc(1024)])
}

interface Res {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function parsePlatform(p: string): {os: string; architecture: string; variant?: string} {
  const [os, architecture, variant] = p.split('/')
  if (os === undefined || architecture === undefined) throw new Error(`bad platform ${p}`)
  return variant === undefined ? {os, architecture} : {os, architecture, variant}
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const user = opts.user ?? 'testuser'
  const password = opts.password ?? 'testpass'
  const dir = await mkdtemp(join(tmpdir(), 'sd-registry-'))
  await mkdir(join(dir, 'data'))
  let tokenServer: TokenServer | undefined
  let caFile: string | undefined
  let ca: string | undefined
  let child: ChildProcess | undefined
  try {
    const lines = [
      'version: 0.1',
      'log:',
      '  level: info',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: inmemory',
      'http:',
      '  addr: 127.0.0.1:0',
      '  secret: testsecret',
    ]
    if (opts.tls === true) {
      const {certFile, keyFile} = await makeSelfSignedCert(dir, 'tls', '/CN=127.0.0.1', opts.tlsSubjectAltName ?? 'IP:127.0.0.1,DNS:localhost')
      caFile = certFile
      ca = await readFile(certFile, 'utf8')
      lines.push('  tls:', `    certificate: ${certFile}`, `    key: ${keyFile}`)
    }
    if (opts.auth === 'htpasswd') {
      const {stdout} = await execFileP('htpasswd', ['-Bbn', user, password])
      await writeFile(join(dir, 'htpasswd'), stdout)
      lines.push('auth:', '  htpasswd:', '    realm: test-realm', `    path: ${join(dir, 'htpasswd')}`)
    } else if (opts.auth === 'token') {
      tokenServer = await startTokenServer({users: {[user]: password}, anonymousPull: opts.anonymousPull === true})
      lines.push(
        'auth:',
        '  token:',
        `    realm: ${tokenServer.realm}`,
        `    service: ${tokenServer.service}`,
        `    issuer: ${tokenServer.issuer}`,
        `    rootcertbundle: ${tokenServer.certFile}`,
      )
    }
    const configFile = join(dir, 'config.yml')
    await writeFile(configFile, lines.join('\n') + '\n')

    const proc = spawn('docker-registry', ['serve', configFile], {stdio: ['ignore', 'ignore', 'pipe']})
    child = proc
    const logTail: string[] = []
    // Every answered request is logged at level info as "response completed" (or "… with error").
    let served = 0
    const address = await new Promise<string>((resolve, reject) => {
      let buf = ''
      const timer = setTimeout(() => reject(new Error(`docker-registry did not start in 10 s:\n${logTail.join('\n')}`)), 10_000)
      proc.stderr?.setEncoding('utf8')
      proc.stderr?.on('data', (chunk: string) => {
        buf += chunk
        let nl: number
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl)
          buf = buf.slice(nl + 1)
          if (line.includes('msg="response completed')) served++
          logTail.push(line)
          if (logTail.length > 50) logTail.shift()
          const m = /listening on (\S+?)(,|")/.exec(line)
          if (m?.[1] !== undefined) {
            clearTimeout(timer)
            resolve(m[1])
          }
        }
      })
      proc.once('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      proc.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`docker-registry exited with ${code}:\n${logTail.join('\n')}`))
      })
    })
    const host = address
    const scheme = opts.tls === true ? 'https' : 'http'
    const url = `${scheme}://${host}`
    const agent =
      opts.tls === true
        ? new https.Agent({keepAlive: true, maxSockets: 16, checkServerIdentity: () => undefined, ...(ca === undefined ? {} : {ca})})
        : new http.Agent({keepAlive: true, maxSockets: 16})

    const tokens = new Map<string, string>()
    const authHeader = (repo: string): string | undefined => {
      if (opts.auth === 'htpasswd') return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')
      if (tokenServer !== undefined) {
        let t = tokens.get(repo)
        if (t === undefined) {
          t = tokenServer.mint(user, [{type: 'repository', name: repo, actions: ['pull', 'push']}])
          tokens.set(repo, t)
        }
        return 'Bearer ' + t
      }
      return undefined
    }

    const request = (target: string, method: string, repo: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Res> =>
      new Promise((resolve, reject) => {
        const u = new URL(target, url)
        const h: Record<string, string | number> = {...headers}
        const a = authHeader(repo)
        if (a !== undefined) h['Authorization'] = a
        if (body !== undefined) h['Content-Length'] = body.length
        const mod = u.protocol === 'https:' ? https : http
        const req = mod.request(u, {method, headers: h, agent}, (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}))
          res.on('error', reject)
        })
        req.on('error', reject)
        req.end(body)
      })

    const fail = (what: string, r: Res): Error => new Error(`${what}: HTTP ${r.status} ${r.body.toString('utf8').slice(0, 300)}`)

    const putBlob = async (repo: string, content: Buffer | string): Promise<string> => {
      const body = Buffer.from(content)
      const digest = sha256(body)
      const head = await request(`/v2/${repo}/blobs/${digest}`, 'HEAD', repo)
      if (head.status === 200) return digest
      const start = await request(`/v2/${repo}/blobs/uploads/`, 'POST', repo)
      const loc = start.headers.location
      if (start.status !== 202 || loc === undefined) throw fail(`POST blob upload ${repo}`, start)
      const put = new URL(loc, url)
      put.searchParams.set('digest', digest)
      const done = await request(put.toString(), 'PUT', repo, {'Content-Type': 'application/octet-stream'}, body)
      if (done.status !== 201) throw fail(`PUT blob ${digest} to ${repo}`, done)
      return digest
    }

    const putManifest = async (repo: string, reference: string, content: Buffer | string, mediaType: string): Promise<string> => {
      const body = Buffer.from(content)
      const r = await request(`/v2/${repo}/manifests/${reference}`, 'PUT', repo, {'Content-Type': mediaType}, body)
      if (r.status !== 201) throw fail(`PUT manifest ${repo}:${reference}`, r)
      const digest = sha256(body)
      const got = r.headers['docker-content-digest']
      if (got !== digest) throw new Error(`registry digest ${String(got)} != local ${digest}`)
      return digest
    }

    /** Push config + layer for one platform; returns the manifest body (not yet pushed). */
    const buildImage = async (repo: string, platform: string, seed: string, docker: boolean): Promise<Buffer> => {
      const p = parsePlatform(platform)
      const tar = tinyTar('seed.txt', `${seed}\n${platform}\n`)
      const layer = gzipSync(tar, {level: 1})
      const config = Buffer.from(
        JSON.stringify({
          ...p,
          created: '2026-01-01T00:00:00Z',
          config: {Labels: {seed}},
          rootfs: {type: 'layers', diff_ids: [sha256(tar)]},
        }),
      )
      const [configDigest, layerDigest] = await Promise.all([putBlob(repo, config), putBlob(repo, layer)])
      return Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: docker ? MEDIA.dockerManifest : MEDIA.ociManifest,
          config: {mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig, digest: configDigest, size: config.length},
          layers: [{mediaType: docker ? MEDIA.dockerLayer : MEDIA.ociLayer, digest: layerDigest, size: layer.length}],
        }),
      )
    }

    const pushImage = async (repo: string, tag: string, o: PushImageOptions = {}): Promise<PushResult> => {
      const platforms = o.platforms ?? ['linux/amd64']
      const seed = o.seed ?? `${repo}:${tag}`
      const docker = o.mediaTypes === 'docker'
      const manifestType = docker ? MEDIA.dockerManifest : MEDIA.ociManifest
      if (platforms.length === 1 && o.index !== true) {
        const body = await buildImage(repo, platforms[0] as string, seed, docker)
        return {digest: await putManifest(repo, tag, body, manifestType), mediaType: manifestType}
      }
      const children: Record<string, string> = {}
      const entries = []
      for (const platform of platforms) {
        const body = await buildImage(repo, platform, seed, docker)
        const digest = await putManifest(repo, sha256(body), body, manifestType)
        children[platform] = digest
        entries.push({mediaType: manifestType, digest, size: body.length, platform: parsePlatform(platform)})
      }
      const indexType = docker ? MEDIA.dockerList : MEDIA.ociIndex
      const index = JSON.stringify({schemaVersion: 2, mediaType: indexType, manifests: entries})
      return {digest: await putManifest(repo, tag, index, indexType), mediaType: indexType, children}
    }

    const pushManyTags = async (repo: string, count: number, prefix = 't'): Promise<Map<string, string>> => {
      const base = JSON.parse((await buildImage(repo, 'linux/amd64', `${repo}:many`, false)).toString('utf8')) as Record<string, unknown>
      const out = new Map<string, string>()
      let next = 0
      const worker = async (): Promise<void> => {
        while (next < count) {
          const tag = `${prefix}${next++}`
          const body = JSON.stringify({...base, annotations: {'test.tag': tag}})
          out.set(tag, await putManifest(repo, tag, body, MEDIA.ociManifest))
        }
      }
      await Promise.all(Array.from({length: Math.min(16, count)}, worker))
      return new Map([...out.entries()].sort((a, b) => Number(a[0].slice(prefix.length)) - Number(b[0].slice(prefix.length))))
    }

    const registry: TestRegistry = {
      host,
      url,
      user,
      password,
      dir,
      pushImage,
      pushManyTags,
      putManifest,
      putBlob,
      requestsServed: () => served,
      stop: async () => {
        agent.destroy()
        await stopChild(proc)
        await tokenServer?.stop()
        await rm(dir, {recursive: true, force: true})
      },
    }
    if (caFile !== undefined) registry.caFile = caFile
    if (tokenServer !== undefined) registry.tokenServer = tokenServer
    await waitReady(registry, agent, logTail)
    return registry
  } catch (e) {
    if (child !== undefined) await stopChild(child)
    await tokenServer?.stop()
    await rm(dir, {recursive: true, force: true})
    throw e
  }
}

async function waitReady(reg: TestRegistry, agent: http.Agent, logTail: string[]): Promise<void> {
  const deadline = Date.now() + 10_000
  const mod = reg.url.startsWith('https:') ? https : http
  while (Date.now() < deadline) {
    const status = await new Promise<number>((resolve) => {
      const req = mod.request(`${reg.url}/v2/`, {agent}, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
      })
      req.on('error', () => resolve(0))
      req.end()
    })
    if (status === 200 || status === 401) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`registry at ${reg.url} never answered /v2/:\n${logTail.join('\n')}`)
}

function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 3000)
    proc.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    proc.kill('SIGTERM')
  })
}
