/**
 * A Bearer token server for distribution's `auth.token` (docs/testing.md#registry): Node http, RS256 JWTs
 * whose header carries `x5c` = [the signing certificate], certificate made with openssl.
 *
 *   const ts = await startTokenServer({users: {testuser: 'testpass'}})
 *   // registry config: auth.token {realm: ts.realm, service: ts.service, issuer: ts.issuer, rootcertbundle: ts.certFile}
 *   ts.tokenRequests   // how many GET /token requests were answered (any status)
 *   ts.issued          // every token handed out over HTTP (for "secret never leaks" assertions)
 *   ts.mint('testuser', [{type: 'repository', name: 'demo/app', actions: ['pull', 'push']}])  // no HTTP, not counted
 *   await ts.stop()
 *
 * Grants: valid Basic credentials get every requested action; anonymous callers get `pull` only when
 * `anonymousPull` is true, otherwise an empty access list (the registry then answers 401
 * insufficient_scope); wrong credentials get 401 from the token server itself.
 */
import {execFile} from 'node:child_process'
import {createHash, createPrivateKey, randomUUID, sign, type KeyObject} from 'node:crypto'
import {mkdtemp, readFile, rm} from 'node:fs/promises'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const execFileP = promisify(execFile)

export interface Access {
  type: string
  name: string
  actions: string[]
}

export interface TokenServerOptions {
  /** user → password accepted with Basic auth. Default {testuser: 'testpass'}. */
  users?: Record<string, string>
  /** Give anonymous callers pull access. Default false (anonymous gets an empty access list). */
  anonymousPull?: boolean
  /** JWT `iss`; the registry's auth.token.issuer. Default 'test-issuer'. */
  issuer?: string
  /** JWT `aud`; the registry's auth.token.service. Default 'test-registry'. */
  service?: string
  /** Token lifetime in seconds (JWT exp and `expires_in`). Default 300. */
  expiresIn?: number
}

export interface TokenServer {
  /** http://127.0.0.1:PORT */
  url: string
  /** http://127.0.0.1:PORT/token — the registry's auth.token.realm. */
  realm: string
  service: string
  issuer: string
  /** PEM certificate of the signing key; the registry's auth.token.rootcertbundle. */
  certFile: string
  /** Number of requests to /token so far. */
  readonly tokenRequests: number
  /** Every request to /token: the scopes asked for and who asked (user name or 'anonymous'), with the HTTP status. */
  readonly log: ReadonlyArray<{scopes: string[]; service: string | null; subject: string; status: number}>
  /** Every token handed out over HTTP, in order. */
  readonly issued: readonly string[]
  /**
   * Behave like token services that differ from distribution's reference: refuse (HTTP 400) a request
   * naming more than `maxScopes` scopes, or leave the `withhold` repositories out of every access list
   * (as a service grants only what the caller may see). `configure({})` restores the default.
   */
  configure(rules: {maxScopes?: number; withhold?: string[]}): void
  /** Sign a token directly (for the harness's pushes); not counted in tokenRequests. */
  mint(subject: string, access: Access[]): string
  /** Reset tokenRequests, log and issued. */
  resetCounters(): void
  stop(): Promise<void>
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url')

/** Make a self-signed certificate with openssl (execFile, no shell). Returns the file paths. */
export async function makeSelfSignedCert(dir: string, name: string, subject: string, san?: string): Promise<{certFile: string; keyFile: string}> {
  const certFile = join(dir, `${name}.crt`)
  const keyFile = join(dir, `${name}.key`)
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', subject]
  if (san !== undefined) args.push('-addext', `subjectAltName=${san}`)
  await execFileP('openssl', args)
  return {certFile, keyFile}
}

function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first < 0 || last <= first) return undefined
  return {
    type: scope.slice(0, first),
    name: scope.slice(first + 1, last),
    actions: scope
      .slice(last + 1)
      .split(',')
      .filter(Boolean),
  }
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const users = options.users ?? {testuser: 'testpass'}
  const issuer = options.issuer ?? 'test-issuer'
  const service = options.service ?? 'test-registry'
  const expiresIn = options.expiresIn ?? 300
  const dir = await mkdtemp(join(tmpdir(), 'sd-token-'))
  const {certFile, keyFile} = await makeSelfSignedCert(dir, 'token', '/CN=test-token-issuer')
  const certPem = await readFile(certFile, 'utf8')
  const key: KeyObject = createPrivateKey(await readFile(keyFile, 'utf8'))
  const der = Buffer.from(certPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64')
  const kid = createHash('sha256').update(der).digest('hex').slice(0, 16)

  let rules: {maxScopes?: number; withhold?: string[]} = {}
  let tokenRequests = 0
  let log: Array<{scopes: string[]; service: string | null; subject: string; status: number}> = []
  let issued: string[] = []

  const mint = (subject: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000)
    const header = {alg: 'RS256', typ: 'JWT', kid, x5c: [der.toString('base64')]}
    const claims = {iss: issuer, sub: subject, aud: service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access}
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/token') {
      res.writeHead(404).end()
      return
    }
    tokenRequests++
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean)
    let subject = 'anonymous'
    let authenticated = false
    const authz = req.headers.authorization
    if (authz !== undefined) {
      const m = /^Basic\s+(\S+)$/i.exec(authz)
      const decoded = m?.[1] === undefined ? '' : Buffer.from(m[1], 'base64').toString('utf8')
      const i = decoded.indexOf(':')
      const user = i < 0 ? decoded : decoded.slice(0, i)
      const pass = i < 0 ? '' : decoded.slice(i + 1)
      if (i < 0 || users[user] === undefined || users[user] !== pass) {
        log.push({scopes, service: url.searchParams.get('service'), subject: user || 'invalid', status: 401})
        res.writeHead(401, {'Content-Type': 'application/json', 'WWW-Authenticate': 'Basic realm="token"'})
        res.end(JSON.stringify({errors: [{code: 'UNAUTHORIZED', message: 'invalid credentials'}]}))
        return
      }
      subject = user
      authenticated = true
    }
    if (rules.maxScopes !== undefined && scopes.length > rules.maxScopes) {
      log.push({scopes, service: url.searchParams.get('service'), subject, status: 400})
      res.writeHead(400, {'Content-Type': 'application/json'})
      res.end(JSON.stringify({errors: [{code: 'DENIED', message: `at most ${rules.maxScopes} scopes per request`}]}))
      return
    }
    const access: Access[] = []
    for (const s of scopes) {
      const a = parseScope(s)
      if (a === undefined || rules.withhold?.includes(a.name) === true) continue
      if (authenticated) access.push(a)
      else if (options.anonymousPull === true && a.actions.includes('pull')) access.push({...a, actions: ['pull']})
    }
    const token = mint(subject, access)
    issued.push(token)
    log.push({scopes, service: url.searchParams.get('service'), subject, status: 200})
    res.writeHead(200, {'Content-Type': 'application/json'})
    res.end(JSON.stringify({token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString()}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certFile,
    get tokenRequests() {
      return tokenRequests
    },
    get log() {
      return log
    },
    get issued() {
      return issued
    },
    mint,
    configure(r) {
      rules = {...r}
    },
    resetCounters() {
      tokenRequests = 0
      log = []
      issued = []
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await rm(dir, {recursive: true, force: true})
    },
  }
}
