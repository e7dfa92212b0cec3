import {Flags} from '@oclif/core'
import {BaseCommand, withExitCodes} from '../../cli/base.js'
import {buildSignaturePayload} from '../../core/attestation/payload.js'

export default class AttestPayload extends BaseCommand {
  static override summary = 'Print the signature payload for an image digest (as gcloud create-signature-payload)'
  static override description = withExitCodes('Prints the exact bytes to sign, for pipelines that sign elsewhere (then store with `attest --signature-file`).')
  static override examples = ['safe-deploy attest payload --image gcr.io/p/app@sha256:… > payload.json']
  static override flags = {
    image: Flags.string({required: true, description: 'REGISTRY/REPO[:tag]@sha256:… (the tag is dropped from the payload)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(AttestPayload)
    this.out(buildSignaturePayload(flags.image))
  }
}
