/**
 * cosign-format signatures built in-process for tests (no cosign binary in CI: ../shared/integrations.md §2.5), through
 * the same builders `attest --sigstore` uses (src/core/signatures/build.ts), so fixtures and product agree by
 * construction. Unit tests use the returned data directly; e2e tests push the same bytes and annotations to the
 * local registry (legacy `.sig`/`.att` tags, or a referrer manifest with the bundle as its one layer).
 */
import {createHash, createPrivateKey, generateKeyPairSync, sign as cryptoSign, type KeyObject} from 'node:crypto'
import {execFile} from 'node:child_process'
import {mkdtemp, readFile, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {dsse} from '@sigstore/core'
import {buildDsseBundle, buildMessageBundle, inTotoStatement, simpleSigningPayload, type KeyedSigner} from '../../src/core/signatures/build.js'
import type {BundleArtifact, DsseLayer, SignatureArtifacts, SimpleSigningLayer} from '../../src/core/signatures/types.js'

const execFileP = promisify(execFile)

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json'
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json'
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'

/** A key pair as cosign users hold it: PEM files, plus a Signer for the build helpers. */
export interface TestKey {
  /** The file name a user would pass (`--sigstore-key ci.pub`). */
  name: string
  publicKeyPem: string
  privateKeyPem: string
  privateKey: KeyObject
  signer: KeyedSigner
}

/** A fresh key (ECDSA P-256 like `cosign generate-key-pair`; RSA and Ed25519 for the other key types cosign accepts). */
export function testKey(name = 'ci.pub', type: 'ec' | 'rsa' | 'ed25519' = 'ec'): TestKey {
  const {publicKey, privateKey} =
    type === 'ec'
      ? generateKeyPairSync('ec', {namedCurve: 'P-256'})
      : type === 'rsa'
        ? generateKeyPairSync('rsa', {modulusLength: 2048})
        : generateKeyPairSync('ed25519')
  const publicKeyPem = publicKey.export({type: 'spki', format: 'pem'}).toString()
  const privateKeyPem = privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
  const signWith = (data: Uint8Array): Buffer => cryptoSign(type === 'ed25519' ? null : 'sha256', data, privateKey)
  return {
    name,
    publicKeyPem,
    privateKeyPem,
    privateKey,
    signer: {keyId: name, publicKeyPem, sign: async (data) => new Uint8Array(signWith(data))},
  }
}

function signRaw(key: TestKey, data: Uint8Array): Buffer {
  return cryptoSign(key.privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', data, key.privateKey)
}

/** Flip one byte (the last): the smallest change that must break a signature. */
function flipLastByte(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes)
  out[out.length - 1] = (out[out.length - 1] as number) ^ 0x01
  return out
}

/**
 * One layer of a legacy `sha256-<hex>.sig` manifest: the simple-signing payload cosign writes for (repository, digest),
 * signed over its exact bytes. `payloadOverride` signs other bytes instead; `tamper` changes one byte of the payload
 * after signing (what a registry or attacker altering the blob would look like).
 */
export function legacySignatureLayer(args: {key: TestKey; repository: string; digest: string; payloadOverride?: Uint8Array; tamper?: boolean}): {
  payload: Uint8Array
  annotations: Record<string, string>
  layer: SimpleSigningLayer
} {
  const signed = args.payloadOverride ?? simpleSigningPayload(args.repository, args.digest)
  const signature = signRaw(args.key, signed).toString('base64')
  const payload = args.tamper === true ? flipLastByte(signed) : signed
  return {payload, annotations: {'dev.cosignproject.cosign/signature': signature}, layer: {payload, signature}}
}

/** One layer of a legacy `sha256-<hex>.att` manifest: a DSSE envelope over an in-toto statement about `digest`. */
export function dsseLayer(args: {key: TestKey; repository: string; digest: string; predicateType: string; predicate?: unknown; subjectDigest?: string}): {
  envelope: Uint8Array
  annotations: Record<string, string>
  layer: DsseLayer
} {
  const statement = inTotoStatement({
    repository: args.repository,
    digest: args.subjectDigest ?? args.digest,
    predicateType: args.predicateType,
    predicate: args.predicate,
  })
  const payload = Buffer.from(JSON.stringify(statement))
  const payloadType = 'application/vnd.in-toto+json'
  const sig = signRaw(args.key, dsse.preAuthEncoding(payloadType, payload))
  const envelope = Buffer.from(JSON.stringify({payloadType, payload: payload.toString('base64'), signatures: [{keyid: '', sig: sig.toString('base64')}]}))
  return {envelope, annotations: {predicateType: args.predicateType}, layer: {envelope, predicateType: args.predicateType}}
}

/**
 * A real v0.3 bundle (JSON bytes) signed with `key`: a DSSE envelope over an in-toto statement about `digest` (what
 * cosign v3 writes; `predicateType` https://sigstore.dev/cosign/sign/v1 for a signature), or with `message` a message
 * signature over the simple-signing payload.
 */
export async function bundleFor(args: {
  key: TestKey
  digest: string
  predicateType?: string
  predicate?: unknown
  repository?: string
  message?: boolean
}): Promise<Uint8Array> {
  const repository = args.repository ?? '127.0.0.1:5000/app'
  const json = args.message
    ? await buildMessageBundle(args.key.signer, simpleSigningPayload(repository, args.digest))
    : await buildDsseBundle(
        args.key.signer,
        inTotoStatement({
          repository,
          digest: args.digest,
          predicateType: args.predicateType ?? 'https://sigstore.dev/cosign/sign/v1',
          predicate: args.predicate,
        }),
      )
  return Buffer.from(JSON.stringify(json))
}

/** A referrer as the registry adapter reports it (the manifest digest is derived from the bundle, stable per bundle). */
export function bundleArtifact(bundle: Uint8Array, predicateType?: string): BundleArtifact {
  return {
    bundle,
    artifactType: BUNDLE_MEDIA_TYPE,
    ...(predicateType === undefined ? {} : {predicateType}),
    manifestDigest: `sha256:${createHash('sha256').update(bundle).digest('hex')}`,
  }
}

/** SignatureArtifacts for one digest with nothing found, to be overridden per test. */
export function emptyArtifacts(repository: string, digest: string, over: Partial<SignatureArtifacts> = {}): SignatureArtifacts {
  const tag = `${repository}:${digest.replace(':', '-')}`
  return {
    repository,
    digest,
    legacySignatures: {location: `${tag}.sig`, status: 'absent'},
    bundles: {location: `${repository}@${digest}`, status: 'absent'},
    ...over,
  }
}

/**
 * Keyless material made with openssl (argument arrays, no shell): a self-signed CA and a leaf certificate for `san`
 * carrying the Fulcio OIDC-issuer extension (1.3.6.1.4.1.57264.1.8, a UTF8String), plus a trusted root JSON listing
 * the CA (and a fake Rekor key, so the thresholds have a log to require).
 */
export async function keylessMaterial(args: {san: string; issuer: string}): Promise<{
  trustedRoot: unknown
  caPem: string
  leafPem: string
  leafKey: KeyObject
}> {
  const dir = await mkdtemp(join(tmpdir(), 'sd-sigstore-'))
  const ca = join(dir, 'ca')
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${ca}.key`,
    '-out',
    `${ca}.crt`,
    '-days',
    '2',
    '-subj',
    '/O=sigstore.dev/CN=sigstore',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  const leaf = join(dir, 'leaf')
  await execFileP('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${leaf}.key`,
    '-out',
    `${leaf}.csr`,
    '-subj',
    '/O=test',
  ])
  const ext = join(dir, 'leaf.ext')
  await writeFile(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=codeSigning',
      `subjectAltName=${args.san.includes('://') ? 'URI' : 'email'}:${args.san}`,
      `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${args.issuer}`,
      '',
    ].join('\n'),
  )
  await execFileP('openssl', [
    'x509',
    '-req',
    '-in',
    `${leaf}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${leaf}.crt`,
    '-days',
    '1',
    '-extfile',
    ext,
  ])
  const caPem = await readFile(`${ca}.crt`, 'utf8')
  const leafPem = await readFile(`${leaf}.crt`, 'utf8')
  const leafKey = createPrivateKey(await readFile(`${leaf}.key`, 'utf8'))
  const der = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
  const rekor = generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey.export({type: 'spki', format: 'der'})
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: 'https://rekor.test',
        hashAlgorithm: 'SHA2_256',
        publicKey: {rawBytes: rekor.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: {start: '2020-01-01T00:00:00Z'}},
        logId: {keyId: createHash('sha256').update(rekor).digest('base64')},
      },
    ],
    certificateAuthorities: [
      {
        subject: {organization: 'sigstore.dev', commonName: 'sigstore'},
        uri: 'https://fulcio.test',
        certChain: {certificates: [{rawBytes: der(caPem)}]},
        validFor: {start: '2020-01-01T00:00:00Z'},
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  }
  return {trustedRoot, caPem, leafPem, leafKey}
}

/** A v0.3 DSSE bundle signed by a keyless leaf certificate (no tlog entry: it shows identity checks, not a full chain). */
export function keylessBundle(args: {leafPem: string; leafKey: KeyObject; repository: string; digest: string; predicateType?: string}): Uint8Array {
  const statement = inTotoStatement({
    repository: args.repository,
    digest: args.digest,
    predicateType: args.predicateType ?? 'https://sigstore.dev/cosign/sign/v1',
  })
  const payload = Buffer.from(JSON.stringify(statement))
  const payloadType = 'application/vnd.in-toto+json'
  const sig = cryptoSign('sha256', dsse.preAuthEncoding(payloadType, payload), args.leafKey)
  const rawBytes = args.leafPem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {certificate: {rawBytes}, tlogEntries: [], timestampVerificationData: {rfc3161Timestamps: []}},
    dsseEnvelope: {payload: payload.toString('base64'), payloadType, signatures: [{sig: sig.toString('base64'), keyid: ''}]},
  }
  return Buffer.from(JSON.stringify(bundle))
}
