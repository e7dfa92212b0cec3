/**
 * Binary Authorization REST v1 (docs/google-apis.md#binary-authorization-rest-v1): project policy, attestors, the Google system
 * policy and the optional online attestation check. Uses google-auth-library (ADC by default),
 * loaded lazily.
 */
import {SafeDeployError} from '../../core/errors.js'
import type {Attestor, AttestationOccurrence} from '../../core/attestation/types.js'
import type {Policy} from '../../core/policy/types.js'
import {systemAllowlistFromPolicy, type SystemAllowlist} from '../../core/policy/allowlist.js'
import type {AttestorSource, PolicySource} from '../../core/ports.js'
import {redact} from '../../core/redact.js'
import {DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS, GcpCallError, NO_CREDENTIALS_HINT, isCredentialsError, obj, str, type GcpOptions} from './common.js'
import {attestorFromJson, policyFromJson} from './convert.js'
import {AttemptTimeoutError, parseRetryAfter, RetriesExhausted, retry} from '../retry.js'
import {parseAttestorName} from '../../core/resource-names.js'

export const BINAUTHZ_DEFAULT_BASE_URL = 'https://binaryauthorization.googleapis.com/'
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

export interface BinauthzOptions extends GcpOptions {
  /** The project whose policy getPolicy() reads and that short attestor names belong to. */
  project: string
}

export type ValidationResult = 'VERIFIED' | 'ATTESTATION_NOT_VERIFIABLE' | 'RESULT_UNSPECIFIED'

export interface ValidateAttestationRequest {
  /** The attestation to check; it need not exist in Container Analysis. */
  attestation: Pick<AttestationOccurrence, 'serializedPayload' | 'signatures' | 'jwts'>
  /** projects/P/notes/N */
  occurrenceNote: string
  /** The occurrence's resourceUri. */
  occurrenceResourceUri: string
}

/** The part of google-auth-library's AuthClient / GoogleAuth that we use. */
interface RequestClient {
  request<T>(opts: {
    url: string
    method: 'GET' | 'POST'
    data?: unknown
    headers?: Record<string, string>
    signal?: AbortSignal
    retry?: boolean
    responseType?: 'json'
  }): Promise<{data: T; status: number}>
}

interface Route {
  /** What we were doing, for messages. */
  action: string
  permission: string
  project: string | undefined
  /** What a 404 means. */
  notFound: (detail: string) => SafeDeployError
}

const SAFE_SEGMENT_RE = /^[A-Za-z0-9._~-]+$/

/** status + server message + network code of a gaxios failure, without its request config (headers). */
function describeHttpFailure(err: unknown): {status: number | undefined; message: string; code: string | undefined} {
  const e = obj(err) ?? {}
  const response = obj(e['response'])
  const statusRaw = e['status'] ?? response?.['status']
  const status = typeof statusRaw === 'number' ? statusRaw : undefined
  const body = obj(response?.['data'])
  const apiError = obj(body?.['error'])
  const serverMessage = str(apiError?.['message']) ?? (typeof response?.['data'] === 'string' ? String(response['data']).slice(0, 300) : undefined)
  const codeRaw = e['code']
  const code = typeof codeRaw === 'string' ? codeRaw : undefined
  const name = str(e['name'])
  const message = serverMessage ?? code ?? (name === 'AbortError' || name === 'TimeoutError' ? 'timed out' : (str(e['message']) ?? 'request failed'))
  return {status, message: redact(message), code}
}

/** A failed REST attempt, described once (the gaxios error keeps request headers: it is not kept). */
class HttpFailure extends Error {
  readonly described: {status: number | undefined; message: string; code: string | undefined}
  /** No Google credentials were found: never retried (common.ts isCredentialsError). */
  readonly noCredentials: boolean
  /** The server's Retry-After on a 429 or 503, in ms. */
  readonly retryAfterMs: number | undefined
  constructor(err: unknown) {
    const described = describeHttpFailure(err)
    super(described.message)
    this.described = described
    this.noCredentials = isCredentialsError(err)
    this.retryAfterMs = described.status === 429 || described.status === 503 ? parseRetryAfter(retryAfterHeader(err)) : undefined
  }
}

/** The Retry-After header of a gaxios failure (fetch Headers, or a plain object in older gaxios). */
function retryAfterHeader(err: unknown): string | undefined {
  const headers = obj(obj(err)?.['response'])?.['headers']
  const get = obj(headers)?.['get']
  // Duck-typed: a Headers from another realm (or fetch implementation) fails instanceof.
  const value: unknown = typeof get === 'function' ? (get as (name: string) => unknown).call(headers, 'retry-after') : obj(headers)?.['retry-after']
  return typeof value === 'string' ? value : undefined
}

function retryable(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500
}

export class BinauthzApi implements PolicySource, AttestorSource {
  private readonly opts: BinauthzOptions
  private readonly baseUrl: string
  private client: Promise<RequestClient> | undefined

  constructor(opts: BinauthzOptions) {
    if (!SAFE_SEGMENT_RE.test(opts.project)) {
      throw new SafeDeployError('USAGE', `invalid project "${opts.project}": expected a project ID such as my-project`)
    }
    this.opts = opts
    this.baseUrl = opts.endpoint === undefined ? BINAUTHZ_DEFAULT_BASE_URL : `${opts.insecure === true ? 'http' : 'https'}://${opts.endpoint}/`
  }

  /** The project policy (GET v1/projects/{p}/policy). */
  async getPolicy(): Promise<Policy> {
    return policyFromJson(await this.getPolicyJson(), `projects/${this.opts.project}/policy`)
  }

  /** The raw REST JSON of a project's policy. */
  async getPolicyJson(project = this.opts.project): Promise<unknown> {
    const seg = this.segment(project, 'project')
    return this.call('GET', `v1/projects/${seg}/policy`, undefined, {
      action: `reading the Binary Authorization policy of project ${project}`,
      permission: 'binaryauthorization.policy.get (roles/binaryauthorization.policyViewer)',
      project,
      notFound: (detail) =>
        new SafeDeployError('API_ERROR', `the Binary Authorization policy of project ${project} was not found (${detail})`, {
          hint: `check the project ID and that binaryauthorization.googleapis.com is enabled in ${project}`,
        }),
    })
  }

  /** A GKE platform policy's REST JSON (GET v1/projects/{p}/platforms/gke/policies/{id}), parsed by the caller. */
  async getPlatformPolicyJson(name: string): Promise<unknown> {
    const m = /^projects\/([^/]+)\/platforms\/gke\/policies\/([^/]+)$/.exec(name)
    if (!m) throw new SafeDeployError('USAGE', `expected projects/PROJECT/platforms/gke/policies/NAME, got "${name}"`)
    const project = this.segment(m[1] as string, 'project')
    const id = this.segment(m[2] as string, 'policy')
    return this.call('GET', `v1/projects/${project}/platforms/gke/policies/${id}`, undefined, {
      action: `reading the platform policy ${name}`,
      permission: 'binaryauthorization.platformPolicies.get (roles/binaryauthorization.policyViewer)',
      project,
      notFound: (detail) =>
        new SafeDeployError('API_ERROR', `the platform policy ${name} was not found (${detail})`, {
          hint: `list them with \`gcloud beta container binauthz policy list --platform=gke --project ${project}\``,
        }),
    })
  }

  /** The Google-maintained system policy (GET v1/locations/{loc}/policy; no defaultAdmissionRule needed). */
  async getSystemPolicy(location = 'global'): Promise<Policy> {
    return policyFromJson(await this.getSystemPolicyJson(location), `locations/${location}/policy`, {systemPolicy: true})
  }

  /** The system policy as the exemption list evaluation uses when globalPolicyEvaluationMode is ENABLE. */
  async getSystemAllowlist(location = 'global'): Promise<SystemAllowlist> {
    return systemAllowlistFromPolicy(await this.getSystemPolicy(location))
  }

  async getSystemPolicyJson(location = 'global'): Promise<unknown> {
    const seg = this.segment(location, 'location')
    return this.call('GET', `v1/locations/${seg}/policy`, undefined, {
      action: `reading the Binary Authorization system policy for ${location}`,
      permission: 'an authenticated identity with the Binary Authorization API enabled on its quota project',
      project: this.opts.projectForQuota,
      notFound: (detail) =>
        new SafeDeployError('API_ERROR', `no Binary Authorization system policy for location ${location} (${detail})`, {
          hint: 'use `global` or a Binary Authorization enforcer region',
        }),
    })
  }

  /** An attestor by full name (projects/P/attestors/A) or short name (A, in this project). */
  async getAttestor(name: string): Promise<Attestor> {
    const full = this.attestorName(name)
    return attestorFromJson(await this.getAttestorJson(full), full)
  }

  async getAttestorJson(name: string): Promise<unknown> {
    const full = this.attestorName(name)
    const project = parseAttestorName(full)?.project
    return this.call('GET', `v1/${full}`, undefined, {
      action: `reading attestor ${full}`,
      permission: 'binaryauthorization.attestors.get (roles/binaryauthorization.attestorsViewer)',
      project,
      notFound: (detail) =>
        new SafeDeployError('ATTESTOR_UNKNOWN', `attestor ${full} does not exist (${detail})`, {
          hint: `list the attestors with \`gcloud container binauthz attestors list --project ${project ?? this.opts.project}\` and fix the policy or the --attestor flag`,
        }),
    })
  }

  /** POST v1/{attestor}:validateAttestationOccurrence: the server's own verdict on one attestation. */
  async validateAttestationOccurrence(attestor: string, req: ValidateAttestationRequest): Promise<{result: ValidationResult; denialReason?: string}> {
    const full = this.attestorName(attestor)
    const project = parseAttestorName(full)?.project
    const body = {
      attestation: {
        serializedPayload: Buffer.from(req.attestation.serializedPayload).toString('base64'),
        signatures: req.attestation.signatures.map((s) => ({publicKeyId: s.publicKeyId, signature: Buffer.from(s.signature).toString('base64')})),
        ...(req.attestation.jwts.length > 0 ? {jwts: req.attestation.jwts.map((compactJwt) => ({compactJwt}))} : {}),
      },
      occurrenceNote: req.occurrenceNote,
      occurrenceResourceUri: req.occurrenceResourceUri,
    }
    const data =
      obj(
        await this.call('POST', `v1/${full}:validateAttestationOccurrence`, body, {
          action: `validating an attestation with attestor ${full}`,
          permission: 'binaryauthorization.attestors.verifyImageAttested (roles/binaryauthorization.attestorsVerifier)',
          project,
          notFound: (detail) => new SafeDeployError('ATTESTOR_UNKNOWN', `attestor ${full} does not exist (${detail})`),
        }),
      ) ?? {}
    const r = data['result']
    const result: ValidationResult = r === 'VERIFIED' || r === 'ATTESTATION_NOT_VERIFIABLE' ? r : 'RESULT_UNSPECIFIED'
    const denialReason = str(data['denialReason'])
    return denialReason === undefined ? {result} : {result, denialReason}
  }

  /** `A` → `projects/<project>/attestors/A`; full names are validated. */
  attestorName(name: string): string {
    if (!name.includes('/')) return `projects/${this.segment(this.opts.project, 'project')}/attestors/${this.segment(name, 'attestor')}`
    const m = parseAttestorName(name)
    if (!m || !SAFE_SEGMENT_RE.test(m.project) || !SAFE_SEGMENT_RE.test(m.attestor)) {
      throw new SafeDeployError('USAGE', `invalid attestor name "${name}": expected projects/PROJECT/attestors/NAME or NAME`)
    }
    return name
  }

  private segment(value: string, what: string): string {
    if (!SAFE_SEGMENT_RE.test(value)) throw new SafeDeployError('USAGE', `invalid ${what} "${value}"`)
    return value
  }

  private async authClient(): Promise<RequestClient> {
    if (this.opts.authClient !== undefined) return this.opts.authClient as unknown as RequestClient
    this.client ??= (async () => {
      const {GoogleAuth} = await import('google-auth-library')
      return new GoogleAuth({
        scopes: [SCOPE],
        ...(this.opts.projectForQuota === undefined ? {} : {clientOptions: {quotaProjectId: this.opts.projectForQuota}}),
      }) as unknown as RequestClient
    })()
    return this.client
  }

  private async call(method: 'GET' | 'POST', path: string, data: unknown, route: Route): Promise<unknown> {
    let client: RequestClient
    try {
      client = await this.authClient()
    } catch (err) {
      throw new SafeDeployError('API_AUTH', `${route.action}: no Google credentials (${redact(err instanceof Error ? err.message : String(err))})`, {
        hint: NO_CREDENTIALS_HINT,
      })
    }
    const maxRetries = this.opts.maxRetries ?? DEFAULT_MAX_RETRIES
    const headers: Record<string, string> = {}
    if (this.opts.projectForQuota !== undefined) headers['x-goog-user-project'] = this.opts.projectForQuota
    let last: HttpFailure
    try {
      return await retry(
        async ({signal}) => {
          try {
            const res = await client.request<unknown>({
              url: this.baseUrl + path,
              method,
              headers,
              ...(data === undefined ? {} : {data}),
              signal,
              retry: false,
              responseType: 'json',
            })
            return res.data
          } catch (err) {
            throw new HttpFailure(err)
          }
        },
        {
          attempts: maxRetries + 1,
          baseDelayMs: this.opts.retryDelayMs ?? 250,
          // The per-request deadline is the policy's per-attempt timeout: the attempt's signal aborts the request.
          attemptTimeoutMs: this.opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          isRetryable: (e) => e instanceof AttemptTimeoutError || (e instanceof HttpFailure && retryable(e.described.status) && !e.noCredentials),
          retryAfterMs: (e) => (e instanceof HttpFailure ? e.retryAfterMs : undefined),
        },
      )
    } catch (e) {
      const failure = e instanceof RetriesExhausted ? e.last : e
      last = failure instanceof HttpFailure ? failure : new HttpFailure(failure)
    }
    const {status, message, code} = last.described
    const cause = new GcpCallError(status === undefined ? 'NETWORK' : `HTTP ${status}`, message, code)
    const where = route.project === undefined ? '' : ` in project ${route.project}`
    if (last.noCredentials) {
      throw new SafeDeployError('API_AUTH', `${route.action}: no Google credentials (${message})`, {hint: NO_CREDENTIALS_HINT, cause})
    }
    if (status === 401) {
      throw new SafeDeployError('API_AUTH', `${route.action}: the credentials were rejected (HTTP 401: ${message})`, {
        hint: 'run `gcloud auth application-default login` (or refresh the service account key) and retry',
        cause,
      })
    }
    if (status === 403) {
      throw new SafeDeployError('API_AUTH', `${route.action}: permission denied (HTTP 403: ${message})`, {
        hint: `the caller probably lacks ${route.permission}${where}`,
        cause,
      })
    }
    if (status === 404) {
      const e = route.notFound(`HTTP 404: ${message}`)
      throw new SafeDeployError(e.code, e.message, {...(e.hint === undefined ? {} : {hint: e.hint}), cause})
    }
    const tries = maxRetries + 1
    throw new SafeDeployError(
      'API_ERROR',
      status === undefined
        ? `${route.action} failed: ${message}${retryable(status) ? ` (after ${tries} attempts)` : ''}`
        : `${route.action} failed (HTTP ${status}: ${message})${retryable(status) ? ` after ${tries} attempts` : ''}`,
      {
        hint: 'the Binary Authorization API could not answer; nothing was treated as allowed. Check the network and retry',
        cause,
      },
    )
  }
}
