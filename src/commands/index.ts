/**
 * Every command, by id: oclif's explicit command strategy (package.json `oclif.commands`) reads this one
 * module instead of scanning a directory. The published CLI loads it from the bundle (dist/bundle/cli.cjs, handed
 * to oclif by dist/bundle/commands.cjs; esbuild.config.mjs); bin/dev.js loads the tsc build of this file (docs/architecture.md#start-up).
 */
import Complete from './__complete.js'
import Apply from './apply.js'
import ArgocdGenerate from './argocd/generate.js'
import Attest from './attest/index.js'
import AttestPayload from './attest/payload.js'
import Audit from './audit.js'
import EvidenceCollect from './evidence/collect.js'
import Init from './init.js'
import Pin from './pin.js'
import PolicyExplain from './policy/explain.js'
import PolicyLint from './policy/lint.js'
import Preflight from './preflight.js'
import RunDeploy from './run/deploy.js'
import RunReplace from './run/replace.js'
import Scan from './scan.js'

export const COMMANDS = {
  __complete: Complete,
  apply: Apply,
  audit: Audit,
  init: Init,
  pin: Pin,
  preflight: Preflight,
  scan: Scan,
  'argocd:generate': ArgocdGenerate,
  attest: Attest,
  'attest:payload': AttestPayload,
  'evidence:collect': EvidenceCollect,
  'policy:explain': PolicyExplain,
  'policy:lint': PolicyLint,
  'run:deploy': RunDeploy,
  'run:replace': RunReplace,
}
