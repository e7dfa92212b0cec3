import {Flags} from '@oclif/core'
import {renderAttestResult} from '../../render/text.js'
import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {apiTimeoutFlag, imagePlatformFlags, registryFlags} from '../../cli/flags.js'
import {attestPorts, sigstoreAttestPorts} from '../../cli/wiring-trust.js'
import {attest, type AttestResult} from '../../app/attest.js'
import type {SigstoreAttestResult} from '../../app/attest-sigstore.js'
import {renderSigstoreAttestResult} from '../../render/text.js'

const IMAGE = ['image', 'image-digest']
const SIGNERS = ['private-key', 'kms-key', 'pgp-key', 'signature-file']
/** What only a Binary Authorization attestation has. */
const GRAFEAS_ONLY = ['attestor', 'attestors', 'output-dir', 'pgp-key', 'signature-file', 'public-key-id']

export default class Attest extends BaseCommand {
  static override summary = 'Sign an image digest for an attestor and store the attestation, or sign it for cosign/Sigstore and push it to the registry'
  static override description = withExitCodes(
    'Run at the end of a pipeline, after the checks pass. The image is pinned first (a tag is resolved through the registry; the digest is what ' +
      'gets signed), the payload is byte-for-byte what `gcloud container binauthz create-signature-payload` writes, the signature is verified with ' +
      'the same code the pre-flight uses before anything is stored, and storing is idempotent. With --sigstore, the digest is signed as cosign ' +
      'signs it and pushed to the registry beside the image: a Sigstore bundle as an OCI referrer (default), or the legacy sha256-<hex>.sig tag ' +
      '(--sigstore-format legacy); --attestation-type with --predicate makes an in-toto attestation instead.',
  )
  static override examples = [
    'safe-deploy attest --image us-docker.pkg.dev/p/r/app:1.4 --attestor projects/p/attestors/built-by-ci --kms-key projects/p/locations/global/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1',
    'safe-deploy attest --image-digest gcr.io/p/app@sha256:… --attestor projects/p/attestors/a --attestors attestors/ --private-key key.pem --output-dir attestations/',
    'safe-deploy attest --sigstore --image us-docker.pkg.dev/p/r/app:1.4 --private-key cosign.pem',
    'safe-deploy attest --sigstore --image-digest gcr.io/p/app@sha256:… --attestation-type https://slsa.dev/provenance/v1 --predicate provenance.json --kms-key projects/…/cryptoKeyVersions/1',
  ]
  static override enableJsonFlag = true
  static override jsonKind = 'AttestResult'
  static override flags = {
    image: Flags.string({description: 'image to attest; a tag is resolved to its digest first', exactlyOne: IMAGE, helpGroup: 'IMAGE'}),
    'image-digest': Flags.string({description: 'image already pinned (REF@sha256:…); skips resolution', exactlyOne: IMAGE, helpGroup: 'IMAGE'}),
    ...imagePlatformFlags('IMAGE', 'attest the child manifest of a multi-arch index for os/arch[/variant]'),
    attestor: Flags.string({exactlyOne: ['attestor', 'sigstore'], description: 'projects/PROJECT/attestors/NAME', helpGroup: 'ATTESTOR'}),
    attestors: Flags.string({description: 'directory of attestor JSON files (default: read from the Binary Authorization API)', helpGroup: 'ATTESTOR'}),
    project: Flags.string({description: "project that stores the occurrence (default: the attestor's project)", helpGroup: 'ATTESTOR'}),
    'private-key': Flags.string({exactlyOne: SIGNERS, description: 'local PEM private key (ECDSA P-256/384/521, RSA PKCS#1 v1.5 or PSS)', helpGroup: 'SIGNER'}),
    'kms-key': Flags.string({exactlyOne: SIGNERS, description: 'Cloud KMS key version projects/…/cryptoKeyVersions/N', helpGroup: 'SIGNER'}),
    'pgp-key': Flags.string({exactlyOne: SIGNERS, description: 'ASCII-armored PGP private key', helpGroup: 'SIGNER'}),
    'pgp-passphrase-file': Flags.string({description: 'file holding the PGP key passphrase', helpGroup: 'SIGNER'}),
    'signature-file': Flags.string({
      exactlyOne: SIGNERS,
      dependsOn: ['public-key-id'],
      description: 'store a signature made elsewhere (needs --public-key-id)',
      helpGroup: 'SIGNER',
    }),
    'public-key-id': Flags.string({description: 'key id to record (default: the attestor key id rules)', helpGroup: 'SIGNER'}),
    'output-dir': Flags.string({
      description: 'write the occurrence JSON here (what `preflight --attestations DIR` reads) instead of Container Analysis',
      helpGroup: 'STORE',
    }),
    'binauthz-endpoint': Flags.string({description: 'Binary Authorization API base URL (tests, private access)', helpGroup: 'STORE'}),
    'containeranalysis-endpoint': Flags.string({description: 'Container Analysis API host:port (tests, private access)', helpGroup: 'STORE'}),
    'kms-endpoint': Flags.string({description: 'Cloud KMS API host:port (tests, private access)', helpGroup: 'STORE'}),
    'api-timeout': apiTimeoutFlag('STORE'),
    'api-insecure': Flags.boolean({hidden: true, description: 'plain-text endpoints without auth (local test servers only)'}),
    sigstore: Flags.boolean({
      exactlyOne: ['attestor', 'sigstore'],
      exclusive: GRAFEAS_ONLY,
      description: 'sign for cosign/Sigstore and push the signature to the registry (with --private-key or --kms-key), instead of an attestor attestation',
      helpGroup: 'SIGSTORE',
    }),
    'sigstore-format': Flags.string({
      options: ['bundle', 'legacy'],
      default: 'bundle',
      description: "bundle: a Sigstore bundle v0.3 as an OCI referrer (cosign v3's default); legacy: the sha256-<hex>.sig / .att tag (cosign 2)",
      helpGroup: 'SIGSTORE',
    }),
    'attestation-type': Flags.string({
      dependsOn: ['sigstore', 'predicate'],
      description: 'make an in-toto attestation of this predicate type, e.g. https://slsa.dev/provenance/v1',
      helpGroup: 'SIGSTORE',
    }),
    predicate: Flags.string({dependsOn: ['attestation-type'], description: 'JSON file: the predicate of the attestation', helpGroup: 'SIGSTORE'}),
    'sigstore-repository': Flags.string({
      description: "push signatures to this repository instead of the image's (cosign's COSIGN_REPOSITORY)",
      env: 'COSIGN_REPOSITORY',
      helpGroup: 'SIGSTORE',
    }),
    ...registryFlags,
  }

  async run(): Promise<AttestResult | SigstoreAttestResult> {
    const {flags} = await this.parse(Attest)
    if (flags.sigstore) {
      const {options, ports} = sigstoreAttestPorts(flags, this.debugLog)
      // The Sigstore libraries load only for --sigstore (docs/architecture.md#start-up).
      const {attestSigstore} = await import('../../app/attest-sigstore.js')
      const r = await attestSigstore(options, ports)
      this.say(renderSigstoreAttestResult(r))
      return r
    }
    if (flags.attestor === undefined) throw new Error('unreachable: oclif requires exactly one of --attestor and --sigstore')
    const r = await attest(
      {image: flags.image, imageDigest: flags['image-digest'], attestor: flags.attestor},
      attestPorts({...flags, attestor: flags.attestor}, this.debugLog),
    )
    this.say(renderAttestResult(r))
    return r
  }
}
