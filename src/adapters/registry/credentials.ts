/**
 * Where registry credentials come from, in order: docker config.json `credHelpers[host]`, `auths[host]`,
 * `credsStore`, then Google ADC (only for gcr.io, *.gcr.io, *-docker.pkg.dev, docker.pkg.dev), else anonymous.
 * Each credential carries a `source` label used in error messages; secrets never leave this object
 * except as request headers, and every one is registered with the process-wide redactor as soon as
 * it is read, so no output path can print it.
 */
import {execFile} from 'node:child_process'
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {SafeDeployError} from '../../core/errors.js'
import {redact, redactor} from '../../core/redact.js'

export interface Credential {
  /** "anonymous", "docker config auths", "credential helper docker-credential-X", "Google ADC" */
  source: string
  username?: string
  password?: string
  /** An OAuth2 refresh token (docker config `identitytoken`, or a helper's `<token>` user). */
  identityToken?: string
}

export const ANONYMOUS: Credential = {source: 'anonymous'}

interface DockerConfig {
  auths?: Record<string, {auth?: string; username?: string; password?: string; identitytoken?: string}>
  credHelpers?: Record<string, string>
  credsStore?: string
}

export interface CredentialOptions {
  dockerConfigPath?: string
  env: NodeJS.ProcessEnv
  googleAccessToken: () => Promise<string | undefined>
  debug: (line: string) => void
}

export function isGoogleHost(host: string): boolean {
  const name = host.replace(/:\d+$/, '').toLowerCase()
  return name === 'gcr.io' || name.endsWith('.gcr.io') || name === 'docker.pkg.dev' || name.endsWith('-docker.pkg.dev')
}

const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']

/** `https://gcr.io/v2/` → `gcr.io` (docker's ConvertToHostname). */
const hostnameOfKey = (key: string): string =>
  key
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '')
    .toLowerCase()

/** Default `google-auth-library` ADC token, loaded lazily (only when a Google host needs it). */
export async function googleAdcAccessToken(): Promise<string | undefined> {
  const {GoogleAuth} = await import('google-auth-library')
  const auth = new GoogleAuth({scopes: ['https://www.googleapis.com/auth/cloud-platform']})
  const token = await auth.getAccessToken()
  return token ?? undefined
}

export class CredentialStore {
  private config: Promise<DockerConfig> | undefined
  private readonly byHost = new Map<string, Promise<Credential>>()

  constructor(private readonly options: CredentialOptions) {}

  /** The config file read (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json). */
  get configPath(): string {
    if (this.options.dockerConfigPath !== undefined) return this.options.dockerConfigPath
    const dir = this.options.env['DOCKER_CONFIG']
    if (dir !== undefined && dir !== '') return join(dir, 'config.json')
    return join(this.options.env['HOME'] ?? homedir(), '.docker', 'config.json')
  }

  /** Credentials for a registry host (cached per host; never rejects for a missing config). */
  get(host: string): Promise<Credential> {
    let p = this.byHost.get(host)
    if (p === undefined) {
      p = this.lookup(host)
      this.byHost.set(host, p)
    }
    return p
  }

  private loadConfig(): Promise<DockerConfig> {
    this.config ??= (async () => {
      const file = this.configPath
      let text: string
      try {
        text = await readFile(file, 'utf8')
      } catch {
        this.options.debug(`registry: no docker config at ${file}`)
        return {}
      }
      try {
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
        return parsed as DockerConfig
      } catch (e) {
        throw new SafeDeployError('CONFIG_INVALID', `docker config ${file} is not valid JSON: ${(e as Error).message}`, {
          hint: 'fix the file, or point --docker-config (DOCKER_CONFIG) at a valid one',
        })
      }
    })()
    return this.config
  }

  private async lookup(host: string): Promise<Credential> {
    const config = await this.loadConfig()
    const keys = host === 'registry-1.docker.io' || host === 'docker.io' ? DOCKER_HUB_KEYS : [host]
    const findKey = (record: Record<string, unknown> | undefined): string | undefined => {
      if (record === undefined) return undefined
      for (const k of keys) if (Object.hasOwn(record, k)) return k
      for (const k of Object.keys(record)) if (keys.includes(hostnameOfKey(k))) return k
      return undefined
    }

    const helperKey = findKey(config.credHelpers)
    if (helperKey !== undefined && config.credHelpers !== undefined) {
      const cred = await this.runHelper(config.credHelpers[helperKey] as string, helperKey)
      if (cred !== undefined) return cred
    }
    const authKey = findKey(config.auths)
    const entry = authKey === undefined ? undefined : config.auths?.[authKey]
    if (entry !== undefined) {
      const source = 'docker config auths'
      if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
        redactor.add(entry.identitytoken)
        return {source, identityToken: entry.identitytoken, ...(entry.username === undefined ? {} : {username: entry.username})}
      }
      if (typeof entry.auth === 'string' && entry.auth !== '') {
        redactor.add(entry.auth)
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
        const i = decoded.indexOf(':')
        if (i > 0) return this.basic(source, decoded.slice(0, i), decoded.slice(i + 1))
        this.options.debug(`registry: ignoring malformed "auth" for ${authKey} in ${this.configPath}`)
      } else if (typeof entry.username === 'string' && typeof entry.password === 'string') {
        return this.basic(source, entry.username, entry.password)
      }
    }
    if (typeof config.credsStore === 'string' && config.credsStore !== '') {
      const cred = await this.runHelper(config.credsStore, keys[0] as string)
      if (cred !== undefined) return cred
    }
    if (isGoogleHost(host)) {
      try {
        const token = await this.options.googleAccessToken()
        if (token !== undefined && token !== '') return this.basic('Google ADC', 'oauth2accesstoken', token)
        this.options.debug(`registry: Google ADC gave no access token for ${host}`)
      } catch (e) {
        this.options.debug(`registry: Google ADC unavailable for ${host}: ${redact((e as Error).message)}`)
      }
    }
    return ANONYMOUS
  }

  private basic(source: string, username: string, password: string): Credential {
    redactor.addBasic(username, password)
    return {source, username, password}
  }

  /** `docker-credential-<name> get` with the server on stdin → {Username, Secret}; undefined when it has none. */
  private runHelper(name: string, serverUrl: string): Promise<Credential | undefined> {
    const bin = `docker-credential-${name}`
    const source = `credential helper ${bin}`
    return new Promise((resolve) => {
      const child = execFile(bin, ['get'], {env: this.options.env, timeout: 15_000, maxBuffer: 1 << 20}, (err, stdout, stderr) => {
        if (err) {
          const why = `${String(stdout).trim()} ${String(stderr).trim()}`.trim() || err.message
          this.options.debug(`registry: ${source} has no credentials for ${serverUrl}: ${redact(why).slice(0, 200)}`)
          resolve(undefined)
          return
        }
        try {
          const out = JSON.parse(String(stdout)) as {Username?: unknown; Secret?: unknown}
          if (typeof out.Secret !== 'string' || out.Secret === '') throw new Error('no Secret')
          const user = typeof out.Username === 'string' ? out.Username : ''
          if (user === '<token>') {
            redactor.add(out.Secret)
            resolve({source, identityToken: out.Secret})
          } else {
            resolve(this.basic(source, user, out.Secret))
          }
        } catch {
          this.options.debug(`registry: ${source} printed no usable {Username, Secret} JSON for ${serverUrl}`)
          resolve(undefined)
        }
      })
      child.stdin?.on('error', () => undefined)
      child.stdin?.end(serverUrl)
    })
  }
}
