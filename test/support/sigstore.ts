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

const pemBody = (pem: string): string => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '')

/** A self-signed CA (P-256) at `${base}.crt` / `${base}.key`. */
async function makeCa(base: string, subject: string): Promise<string> {
  await execFileP('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.crt`,
    '-days',
    '2',
    '-subj',
    subject,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ])
  return readFile(`${base}.crt`, 'utf8')
}

/** A P-256 leaf at `${base}.crt` / `${base}.key`, issued by the CA at `ca`, with the given extension lines. */
async function makeLeaf(base: string, ca: string, subject: string, extensions: string[]): Promise<{pem: string; key: KeyObject}> {
  await execFileP('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${base}.key`,
    '-out',
    `${base}.csr`,
    '-subj',
    subject,
  ])
  await writeFile(`${base}.ext`, [...extensions, ''].join('\n'))
  await execFileP('openssl', [
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${base}.crt`,
    '-days',
    '1',
    '-extfile',
    `${base}.ext`,
  ])
  return {pem: await readFile(`${base}.crt`, 'utf8'), key: createPrivateKey(await readFile(`${base}.key`, 'utf8'))}
}

export interface KeylessMaterial {
  /** The trusted-root JSON (`--sigstore-trusted-root`). */
  trustedRoot: unknown
  caPem: string
  leafPem: string
  leafKey: KeyObject
  /** With `tsa`: RFC 3161 timestamps over `data` (a signature), base64 TimeStampResp DER (what bundles carry), from the test TSA. */
  timestamp?: (data: Uint8Array) => Promise<string>
}

/**
 * Keyless material made with openssl (argument arrays, no shell): a self-signed "Fulcio" CA and a leaf certificate
 * for `san` carrying the Fulcio OIDC-issuer extension (1.3.6.1.4.1.57264.1.8, a UTF8String), and a trusted root JSON
 * listing the CA. `rekor` (default true) lists a fake Rekor key, so the thresholds have a log to require; `tsa` adds a
 * timestamp authority (its own CA and a timeStamping leaf) and a `timestamp()` that stamps with it via `openssl ts`.
 */
export async function keylessMaterial(args: {san: string; issuer: string; rekor?: boolean; tsa?: boolean}): Promise<KeylessMaterial> {
  const dir = await mkdtemp(join(tmpdir(), 'sd-sigstore-'))
  const ca = join(dir, 'ca')
  const caPem = await makeCa(ca, '/O=sigstore.dev/CN=sigstore')
  const leaf = await makeLeaf(join(dir, 'leaf'), ca, '/O=test', [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=codeSigning',
    `subjectAltName=${args.san.includes('://') ? 'URI' : 'email'}:${args.san}`,
    `1.3.6.1.4.1.57264.1.8=ASN1:UTF8String:${args.issuer}`,
  ])
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [] as unknown[],
    certificateAuthorities: [
      {
        subject: {organization: 'sigstore.dev', commonName: 'sigstore'},
        uri: 'https://fulcio.test',
        certChain: {certificates: [{rawBytes: pemBody(caPem)}]},
        validFor: {start: '2020-01-01T00:00:00Z'},
      },
    ],
    ctlogs: [] as unknown[],
    timestampAuthorities: [] as unknown[],
  }
  if (args.rekor !== false) {
    const rekor = generateKeyPairSync('ec', {namedCurve: 'P-256'}).publicKey.export({type: 'spki', format: 'der'})
    trustedRoot.tlogs.push({
      baseUrl: 'https://rekor.test',
      hashAlgorithm: 'SHA2_256',
      publicKey: {rawBytes: rekor.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: {start: '2020-01-01T00:00:00Z'}},
      logId: {keyId: createHash('sha256').update(rekor).digest('base64')},
    })
  }
  const material: KeylessMaterial = {trustedRoot, caPem, leafPem: leaf.pem, leafKey: leaf.key}
  if (args.tsa === true) {
    const tsaCa = join(dir, 'tsa-ca')
    const tsaCaPem = await makeCa(tsaCa, '/O=test/CN=tsa-root')
    const tsa = join(dir, 'tsa')
    const tsaLeaf = await makeLeaf(tsa, tsaCa, '/O=test/CN=tsa', [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=critical,timeStamping',
    ])
    trustedRoot.timestampAuthorities.push({
      subject: {organization: 'test', commonName: 'tsa'},
      uri: 'https://tsa.test',
      certChain: {certificates: [{rawBytes: pemBody(tsaLeaf.pem)}, {rawBytes: pemBody(tsaCaPem)}]},
      validFor: {start: '2020-01-01T00:00:00Z'},
    })
    const config = join(dir, 'tsa.cnf')
    await writeFile(join(dir, 'tsa.serial'), '01\n')
    await writeFile(
      config,
      [
        '[tsa]',
        'default_tsa = tsa_config',
        '[tsa_config]',
        `serial = ${join(dir, 'tsa.serial')}`,
        `signer_cert = ${tsa}.crt`,
        `signer_key = ${tsa}.key`,
        'signer_digest = sha256',
        'default_policy = 1.2.3.4.1',
        'digests = sha256',
        'ess_cert_id_alg = sha256',
        'accuracy = secs:1',
        'ordering = no',
        'tsa_name = no',
        'ess_cert_id_chain = no',
        '',
      ].join('\n'),
    )
    let n = 0
    material.timestamp = async (data) => {
      const base = join(dir, `ts${++n}`)
      await writeFile(`${base}.data`, data)
      await execFileP('openssl', ['ts', '-query', '-data', `${base}.data`, '-sha256', '-cert', '-out', `${base}.tsq`])
      await execFileP('openssl', ['ts', '-reply', '-config', config, '-queryfile', `${base}.tsq`, '-out', `${base}.tst`])
      return (await readFile(`${base}.tst`)).toString('base64')
    }
  }
  return material
}

/**
 * A v0.3 DSSE bundle signed by the keyless leaf certificate. Without `timestamp` it carries no signed time (shows the
 * identity checks and that a certificate is never accepted untimed); with it, an RFC 3161 timestamp from the test TSA.
 */
export async function keylessBundle(
  args: KeylessMaterial & {repository: string; digest: string; predicateType?: string; subjectDigest?: string; stamp?: boolean},
): Promise<Uint8Array> {
  const statement = inTotoStatement({
    repository: args.repository,
    digest: args.subjectDigest ?? args.digest,
    predicateType: args.predicateType ?? 'https://sigstore.dev/cosign/sign/v1',
  })
  const payload = Buffer.from(JSON.stringify(statement))
  const payloadType = 'application/vnd.in-toto+json'
  const sig = cryptoSign('sha256', dsse.preAuthEncoding(payloadType, payload), args.leafKey)
  const stamps = args.stamp === true && args.timestamp !== undefined ? [{signedTimestamp: await args.timestamp(sig)}] : []
  const bundle = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {certificate: {rawBytes: pemBody(args.leafPem)}, tlogEntries: [], timestampVerificationData: {rfc3161Timestamps: stamps}},
    dsseEnvelope: {payload: payload.toString('base64'), payloadType, signatures: [{sig: sig.toString('base64'), keyid: ''}]},
  }
  return Buffer.from(JSON.stringify(bundle))
}
