/**
 * In-memory fakes of the Google gRPC APIs safe-deploy calls, speaking the real protos (bundled
 * protos.json of each client package). Start one per suite; the real client libraries connect to
 * `endpoint` with `{insecure: true}`.
 *
 *   startGrafeasServer()           grafeas.v1.Grafeas: occurrences (list, list-by-note with filters and paging, create, get)
 *   startRunServer()               google.cloud.run.v2.Services + google.longrunning.Operations (LROs that finish after N polls)
 *   startKmsServer()               google.cloud.kms.v1.KeyManagementService: real node:crypto keys; signatures verify
 *   startContainerServer()         google.container.v1.ClusterManager GetCluster
 *   startArtifactRegistryServer()  google.devtools.artifactregistry.v1.ArtifactRegistry GetRepository / GetDockerImage
 *   startGcpServer()               all of the above on one port (state.grafeas, state.run, …)
 */
import * as grpc from '@grpc/grpc-js'
import {createHash, generateKeyPairSync, privateEncrypt, randomBytes, randomUUID, constants, type KeyObject} from 'node:crypto'
import {crc32c} from '../../../src/adapters/gcp/crc32c.js'
import {GrpcFault, packAny, startGrpcServer, type GrpcServerHandle, type Registration} from './grpc-harness.js'

export {GrpcFault} from './grpc-harness.js'
export type {GrpcServerHandle, LoggedRequest} from './grpc-harness.js'
export const status = grpc.status

const CA_PKG = '@google-cloud/containeranalysis'
const RUN_PKG = '@google-cloud/run'
const KMS_PKG = '@google-cloud/kms'
const CONTAINER_PKG = '@google-cloud/container'
const AR_PKG = '@google-cloud/artifact-registry'

function timestamp(d = new Date()): {seconds: string; nanos: number} {
  return {seconds: String(Math.floor(d.getTime() / 1000)), nanos: (d.getTime() % 1000) * 1e6}
}

function paginate<T>(items: T[], pageSize: number, pageToken: string): {page: T[]; nextPageToken: string} {
  const start = pageToken ? Number(pageToken) : 0
  if (!Number.isInteger(start) || start < 0) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `bad page token ${pageToken}`)
  const size = pageSize > 0 ? pageSize : 1000
  const page = items.slice(start, start + size)
  return {page, nextPageToken: start + size < items.length ? String(start + size) : ''}
}

// ───────────────────────────── Grafeas ─────────────────────────────

export interface GrafeasState {
  /** Stored occurrences (proto-loader object form: Buffers for bytes, enum names as strings). */
  occurrences: any[]
  /** Notes that exist; ListNoteOccurrences on another note answers NOT_FOUND. Empty = every note exists. */
  notes: Set<string>
  /** Page size the server uses when smaller than the request's (to exercise paging). */
  maxPageSize: number
  /** Ignore request filters (return every occurrence in scope), to prove clients filter too. */
  ignoreFilter: boolean
  /** Add an occurrence; returns it with name/createTime filled in. */
  addOccurrence(occurrence: any, project?: string): any
}

/** The subset of the Grafeas filter language the real server accepts that gcloud/safe-deploy use. */
export function grafeasFilter(filter: string): (occ: any) => boolean {
  if (filter.trim() === '') return () => true
  const terms = filter.split(/\s+AND\s+/).map((term) => {
    let m = /^has_suffix\(\s*resourceUrl\s*,\s*"([^"]*)"\s*\)$/.exec(term.trim())
    if (m) {
      const suffix = m[1]!
      return (o: any) => String(o.resourceUri).endsWith(suffix)
    }
    m = /^(resourceUrl|kind|noteName)\s*=\s*"([^"]*)"$/.exec(term.trim())
    if (m) {
      const field = m[1] === 'resourceUrl' ? 'resourceUri' : m[1]!
      const value = m[2]
      return (o: any) => o[field] === value
    }
    throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `invalid filter: ${term}`)
  })
  return (o) => terms.every((t) => t(o))
}

export function newGrafeasState(): GrafeasState {
  const state: GrafeasState = {
    occurrences: [],
    notes: new Set(),
    maxPageSize: 1000,
    ignoreFilter: false,
    addOccurrence(occurrence, project) {
      const p = project ?? /^projects\/([^/]+)/.exec(occurrence.noteName ?? '')?.[1] ?? 'test-project'
      const stored = {
        ...occurrence,
        name: occurrence.name ?? `projects/${p}/occurrences/${randomUUID()}`,
        createTime: occurrence.createTime ?? timestamp(),
        updateTime: occurrence.updateTime ?? timestamp(),
      }
      state.occurrences.push(stored)
      return stored
    },
  }
  return state
}

function grafeasRegistration(state: GrafeasState): Registration {
  const list = (items: any[], req: any) => {
    const matching = items.filter(grafeasFilter(state.ignoreFilter ? '' : (req.filter ?? '')))
    const size = Math.min(req.pageSize || state.maxPageSize, state.maxPageSize)
    const {page, nextPageToken} = paginate(matching, size, req.pageToken ?? '')
    return {occurrences: page, nextPageToken}
  }
  return {
    pkg: CA_PKG,
    service: 'grafeas.v1.Grafeas',
    handlers: {
      ListNoteOccurrences(req) {
        if (state.notes.size > 0 && !state.notes.has(req.name)) throw new GrpcFault(grpc.status.NOT_FOUND, `note ${req.name} not found`)
        return list(
          state.occurrences.filter((o) => o.noteName === req.name),
          req,
        )
      },
      ListOccurrences(req) {
        return list(
          state.occurrences.filter((o) => String(o.name).startsWith(`${req.parent}/occurrences/`)),
          req,
        )
      },
      GetOccurrence(req) {
        const o = state.occurrences.find((x) => x.name === req.name)
        if (!o) throw new GrpcFault(grpc.status.NOT_FOUND, `occurrence ${req.name} not found`)
        return o
      },
      CreateOccurrence(req) {
        const occ = req.occurrence
        if (!/^projects\/[^/]+$/.test(req.parent)) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `bad parent ${req.parent}`)
        if (!occ?.resourceUri) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'occurrence.resourceUri is required')
        if (!/^projects\/[^/]+\/notes\/[^/]+$/.test(occ.noteName ?? '')) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'occurrence.noteName is required')
        if (state.notes.size > 0 && !state.notes.has(occ.noteName)) throw new GrpcFault(grpc.status.NOT_FOUND, `note ${occ.noteName} not found`)
        if (occ.kind === 'ATTESTATION' && !occ.attestation) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'attestation details are required')
        const {name: _n, ...rest} = occ
        return state.addOccurrence(rest, req.parent.slice('projects/'.length))
      },
    },
  }
}

// ───────────────────────────── Cloud Run v2 ─────────────────────────────

export interface RunState {
  /** Services by full name (object form of google.cloud.run.v2.Service). */
  services: Map<string, any>
  operations: Map<string, {op: any; pollsLeft: number}>
  /** GetOperation calls before an operation reports done (0: done immediately). */
  pollsBeforeDone: number
  /** When set, the next create/update operation ends with this error (e.g. a Binary Authorization denial). */
  failNextDeploy?: {code: grpc.status; message: string} | undefined
}

export function newRunState(): RunState {
  return {services: new Map(), operations: new Map(), pollsBeforeDone: 1}
}

const SERVICE_TYPE = 'google.cloud.run.v2.Service'
const OUTPUT_FIELDS = [
  'uid',
  'generation',
  'createTime',
  'updateTime',
  'creator',
  'lastModifier',
  'observedGeneration',
  'terminalCondition',
  'conditions',
  'latestReadyRevision',
  'latestCreatedRevision',
  'trafficStatuses',
  'uri',
  'urls',
  'reconciling',
]

function runRegistrations(state: RunState): Registration[] {
  const startOperation = (service: any): any => {
    const location = /^(projects\/[^/]+\/locations\/[^/]+)/.exec(service.name)![1]
    const name = `${location}/operations/${randomUUID()}`
    const failure = state.failNextDeploy
    state.failNextDeploy = undefined
    const final = {
      name,
      metadata: packAny(RUN_PKG, SERVICE_TYPE, service),
      done: true,
      ...(failure ? {error: {code: failure.code, message: failure.message, details: []}} : {response: packAny(RUN_PKG, SERVICE_TYPE, service)}),
    }
    state.operations.set(name, {op: final, pollsLeft: state.pollsBeforeDone})
    return state.pollsBeforeDone > 0 ? {name, metadata: packAny(RUN_PKG, SERVICE_TYPE, service), done: false} : final
  }
  const materialize = (name: string, body: any, previous: any | undefined): any => {
    const id = name.split('/').pop()!
    const generation = previous ? Number(previous.generation) + 1 : 1
    const revision = body.template?.revision || `${id}-${String(generation).padStart(5, '0')}-${randomBytes(2).toString('hex').slice(0, 3)}`
    const svc = {...body}
    for (const f of OUTPUT_FIELDS) delete svc[f]
    return {
      ...svc,
      name,
      uid: previous?.uid ?? randomUUID(),
      generation: String(generation),
      createTime: previous?.createTime ?? timestamp(),
      updateTime: timestamp(),
      etag: `"${randomUUID()}"`,
      latestCreatedRevision: `${name}/revisions/${revision}`,
      latestReadyRevision: `${name}/revisions/${revision}`,
      uri: `https://${id}-abc123xyz-uc.a.run.app`,
      urls: [`https://${id}-abc123xyz-uc.a.run.app`],
    }
  }
  const checkTemplate = (service: any): void => {
    const containers = service?.template?.containers ?? []
    if (containers.length === 0 || !containers[0].image) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'template.containers[0].image is required')
    const ba = service.binaryAuthorization
    if (ba && !ba.useDefault && ba.breakglassJustification)
      throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'breakglassJustification requires useDefault or policy')
  }
  return [
    {
      pkg: RUN_PKG,
      service: 'google.cloud.run.v2.Services',
      handlers: {
        GetService(req) {
          const svc = state.services.get(req.name)
          if (!svc)
            throw new GrpcFault(
              grpc.status.NOT_FOUND,
              `Resource '${req.name.split('/').pop()}' of kind 'SERVICE' in region '${req.name.split('/')[3]}' in project '${req.name.split('/')[1]}' does not exist.`,
            )
          return svc
        },
        CreateService(req) {
          if (!req.serviceId) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'service_id is required')
          if (req.service?.name) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'service.name must be empty on create')
          const name = `${req.parent}/services/${req.serviceId}`
          if (state.services.has(name)) throw new GrpcFault(grpc.status.ALREADY_EXISTS, `service ${name} already exists`)
          checkTemplate(req.service)
          const svc = materialize(name, req.service, undefined)
          if (req.validateOnly) return {name: `${req.parent}/operations/${randomUUID()}`, done: true, response: packAny(RUN_PKG, SERVICE_TYPE, svc)}
          state.services.set(name, svc)
          return startOperation(svc)
        },
        UpdateService(req) {
          const name = req.service?.name
          const previous = state.services.get(name)
          if (!previous && !req.allowMissing) throw new GrpcFault(grpc.status.NOT_FOUND, `service ${name} does not exist`)
          if (previous && req.service.etag && req.service.etag !== previous.etag) throw new GrpcFault(grpc.status.ABORTED, 'etag mismatch')
          const rev = req.service.template?.revision
          if (previous && rev && previous.latestCreatedRevision.endsWith(`/revisions/${rev}`)) {
            throw new GrpcFault(grpc.status.ALREADY_EXISTS, `revision ${rev} already exists`)
          }
          checkTemplate(req.service)
          const svc = materialize(name, req.service, previous)
          if (req.validateOnly)
            return {name: `${name.split('/services/')[0]}/operations/${randomUUID()}`, done: true, response: packAny(RUN_PKG, SERVICE_TYPE, svc)}
          state.services.set(name, svc)
          return startOperation(svc)
        },
      },
    },
    {
      pkg: RUN_PKG,
      service: 'google.longrunning.Operations',
      handlers: {
        GetOperation(req) {
          const entry = state.operations.get(req.name)
          if (!entry) throw new GrpcFault(grpc.status.NOT_FOUND, `operation ${req.name} not found`)
          if (entry.pollsLeft > 1) {
            entry.pollsLeft--
            return {name: entry.op.name, metadata: entry.op.metadata, done: false}
          }
          entry.pollsLeft = 0
          return entry.op
        },
      },
    },
  ]
}

// ───────────────────────────── Cloud KMS ─────────────────────────────

export type FakeKmsAlgorithm =
  | 'EC_SIGN_P256_SHA256'
  | 'RSA_SIGN_PKCS1_2048_SHA256'
  | 'RSA_SIGN_PKCS1_3072_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA256'
  | 'RSA_SIGN_PKCS1_4096_SHA512'

export interface KmsKey {
  algorithm: FakeKmsAlgorithm
  privateKey: KeyObject
  publicKeyPem: string
}

export interface KmsState {
  keys: Map<string, KmsKey>
  /** Corrupt the CRC32C of the next signature / public key response. */
  corruptNextCrc: boolean
  /** Create a key version; returns its public key PEM. */
  addKey(versionName: string, algorithm: FakeKmsAlgorithm): string
}

export function newKmsState(): KmsState {
  const state: KmsState = {
    keys: new Map(),
    corruptNextCrc: false,
    addKey(versionName, algorithm) {
      const {privateKey, publicKey} =
        algorithm === 'EC_SIGN_P256_SHA256'
          ? generateKeyPairSync('ec', {namedCurve: 'P-256'})
          : generateKeyPairSync('rsa', {modulusLength: Number(/_(\d{4})_/.exec(algorithm)![1])})
      const publicKeyPem = publicKey.export({type: 'spki', format: 'pem'}).toString()
      state.keys.set(versionName, {algorithm, privateKey, publicKeyPem})
      return publicKeyPem
    },
  }
  return state
}

// NIST P-256 (FIPS 186-4 D.1.2.3). node:crypto cannot sign a pre-computed digest with ECDSA, and
// KMS receives only the digest, so the fake signs with plain BigInt arithmetic.
const P256 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
}
type Point = [bigint, bigint] | null
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m
function inv(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [mod(a, m), m, 1n, 0n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }
  return mod(s0, m)
}
function pointAdd(a: Point, b: Point): Point {
  if (!a) return b
  if (!b) return a
  const {p} = P256
  if (a[0] === b[0] && mod(a[1] + b[1], p) === 0n) return null
  const l = a[0] === b[0] && a[1] === b[1] ? mod(3n * a[0] * a[0] - 3n, p) * inv(2n * a[1], p) : mod(b[1] - a[1], p) * inv(b[0] - a[0], p)
  const x = mod(l * l - a[0] - b[0], p)
  return [x, mod(l * (a[0] - x) - a[1], p)]
}
function pointMul(k: bigint, pt: Point): Point {
  let result: Point = null
  let addend = pt
  while (k > 0n) {
    if (k & 1n) result = pointAdd(result, addend)
    addend = pointAdd(addend, addend)
    k >>= 1n
  }
  return result
}
const bigFromBytes = (b: Uint8Array): bigint => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'))
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16)
  if (hex.length % 2) hex = '0' + hex
  let bytes = Buffer.from(hex, 'hex')
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes])
}
function ecdsaP256SignDigest(privateKey: KeyObject, digest: Uint8Array): Buffer {
  const d = bigFromBytes(Buffer.from(privateKey.export({format: 'jwk'}).d!, 'base64url'))
  const z = bigFromBytes(digest)
  for (;;) {
    const k = mod(bigFromBytes(randomBytes(40)), P256.n - 1n) + 1n
    const r = mod(pointMul(k, [P256.gx, P256.gy])![0], P256.n)
    if (r === 0n) continue
    const s = mod(inv(k, P256.n) * (z + r * d), P256.n)
    if (s === 0n) continue
    const body = Buffer.concat([derInteger(r), derInteger(s)])
    return Buffer.concat([Buffer.from([0x30, body.length]), body])
  }
}
const DIGEST_INFO: Record<string, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}

/** Sign a pre-computed digest like Cloud KMS does (DER ECDSA; raw PKCS#1 v1.5 for RSA). */
export function signDigest(key: KmsKey, alg: string, digest: Uint8Array): Buffer {
  if (key.algorithm === 'EC_SIGN_P256_SHA256') return ecdsaP256SignDigest(key.privateKey, digest)
  return privateEncrypt({key: key.privateKey, padding: constants.RSA_PKCS1_PADDING}, Buffer.concat([Buffer.from(DIGEST_INFO[alg]!, 'hex'), digest]))
}

function kmsRegistration(state: KmsState): Registration {
  const crc = (data: Uint8Array | string): {value: string} => {
    const v = crc32c(data)
    if (state.corruptNextCrc) {
      state.corruptNextCrc = false
      return {value: String((v + 1) >>> 0)}
    }
    return {value: String(v)}
  }
  const key = (name: string): KmsKey => {
    const k = state.keys.get(name)
    if (!k) throw new GrpcFault(grpc.status.NOT_FOUND, `CryptoKeyVersion ${name} not found.`)
    return k
  }
  return {
    pkg: KMS_PKG,
    service: 'google.cloud.kms.v1.KeyManagementService',
    handlers: {
      GetPublicKey(req) {
        const k = key(req.name)
        return {
          pem: k.publicKeyPem,
          algorithm: k.algorithm,
          pemCrc32c: crc(k.publicKeyPem),
          name: req.name,
          protectionLevel: 'SOFTWARE',
          publicKeyFormat: 'PEM',
        }
      },
      AsymmetricSign(req) {
        const k = key(req.name)
        const want = /_(SHA\d{3})$/.exec(k.algorithm)![1]!.toLowerCase()
        const which = req.digest?.digest
        const digest: Buffer | undefined = which ? req.digest[which] : undefined
        if (!digest || which !== want)
          throw new GrpcFault(grpc.status.INVALID_ARGUMENT, `The request digest type (${which ?? 'none'}) does not match the key's algorithm ${k.algorithm}`)
        if (digest.length !== {sha256: 32, sha384: 48, sha512: 64}[want]) throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'digest length is wrong')
        const sentCrc = req.digestCrc32c?.value
        if (sentCrc !== undefined && sentCrc !== String(crc32c(digest)))
          throw new GrpcFault(grpc.status.INVALID_ARGUMENT, 'The checksum in field digest_crc32c did not match the data in field digest.')
        const signature = signDigest(k, want, digest)
        return {
          signature,
          signatureCrc32c: crc(signature),
          verifiedDigestCrc32c: sentCrc !== undefined,
          name: req.name,
          protectionLevel: 'SOFTWARE',
          verifiedDataCrc32c: false,
        }
      },
    },
  }
}

/** sha256/384/512 of bytes, for tests that sign payloads. */
export function hash(alg: 'sha256' | 'sha384' | 'sha512', data: Uint8Array | string): Buffer {
  return createHash(alg).update(data).digest()
}

// ───────────────────────────── GKE ─────────────────────────────

export interface ContainerState {
  /** Clusters by name projects/P/locations/L/clusters/C (object form of google.container.v1.Cluster). */
  clusters: Map<string, any>
}

export function newContainerState(): ContainerState {
  return {clusters: new Map()}
}

function containerRegistration(state: ContainerState): Registration {
  return {
    pkg: CONTAINER_PKG,
    service: 'google.container.v1.ClusterManager',
    handlers: {
      GetCluster(req) {
        const c = state.clusters.get(req.name)
        if (!c) throw new GrpcFault(grpc.status.NOT_FOUND, `Not found: ${req.name}.`)
        // The bundled v1 proto lacks the policy-bindings modes; send their numbers as the real API does.
        const mode = c.binaryAuthorization?.evaluationMode
        const numbered = mode === 'POLICY_BINDINGS' ? 5 : mode === 'POLICY_BINDINGS_AND_PROJECT_SINGLETON_POLICY_ENFORCE' ? 6 : mode
        return {
          name: req.name.split('/').pop(),
          ...c,
          ...(c.binaryAuthorization ? {binaryAuthorization: {...c.binaryAuthorization, evaluationMode: numbered}} : {}),
        }
      },
    },
  }
}

// ───────────────────────────── Artifact Registry ─────────────────────────────

export interface ArtifactRegistryState {
  /** Repositories by name projects/P/locations/L/repositories/R */
  repositories: Map<string, any>
  /** Docker images by name …/dockerImages/<escaped package>@sha256:… */
  dockerImages: Map<string, any>
}

export function newArtifactRegistryState(): ArtifactRegistryState {
  return {repositories: new Map(), dockerImages: new Map()}
}

function artifactRegistryRegistration(state: ArtifactRegistryState): Registration {
  return {
    pkg: AR_PKG,
    service: 'google.devtools.artifactregistry.v1.ArtifactRegistry',
    handlers: {
      GetRepository(req) {
        const r = state.repositories.get(req.name)
        if (!r) throw new GrpcFault(grpc.status.NOT_FOUND, `Requested entity was not found.`)
        return {name: req.name, format: 'DOCKER', ...r}
      },
      GetDockerImage(req) {
        const i = state.dockerImages.get(req.name)
        if (!i) throw new GrpcFault(grpc.status.NOT_FOUND, `Requested entity was not found.`)
        return {name: req.name, ...i}
      },
    },
  }
}

// ───────────────────────────── start functions ─────────────────────────────

export function startGrafeasServer(): Promise<GrpcServerHandle<GrafeasState>> {
  const state = newGrafeasState()
  return startGrpcServer([grafeasRegistration(state)], state)
}

export function startRunServer(): Promise<GrpcServerHandle<RunState>> {
  const state = newRunState()
  return startGrpcServer(runRegistrations(state), state)
}

export function startKmsServer(): Promise<GrpcServerHandle<KmsState>> {
  const state = newKmsState()
  return startGrpcServer([kmsRegistration(state)], state)
}

export function startContainerServer(): Promise<GrpcServerHandle<ContainerState>> {
  const state = newContainerState()
  return startGrpcServer([containerRegistration(state)], state)
}

export function startArtifactRegistryServer(): Promise<GrpcServerHandle<ArtifactRegistryState>> {
  const state = newArtifactRegistryState()
  return startGrpcServer([artifactRegistryRegistration(state)], state)
}

export interface GcpState {
  grafeas: GrafeasState
  run: RunState
  kms: KmsState
  container: ContainerState
  artifactRegistry: ArtifactRegistryState
}

/** Every fake on one port (one endpoint for all adapters). */
export function startGcpServer(): Promise<GrpcServerHandle<GcpState>> {
  const state: GcpState = {
    grafeas: newGrafeasState(),
    run: newRunState(),
    kms: newKmsState(),
    container: newContainerState(),
    artifactRegistry: newArtifactRegistryState(),
  }
  return startGrpcServer(
    [
      grafeasRegistration(state.grafeas),
      ...runRegistrations(state.run),
      kmsRegistration(state.kms),
      containerRegistration(state.container),
      artifactRegistryRegistration(state.artifactRegistry),
    ],
    state,
  )
}
