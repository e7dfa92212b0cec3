/** Flags shared by pin, preflight, apply and attest: one definition each. */
import {Flags} from '@oclif/core'

export const inputFlags = {
  filename: Flags.string({char: 'f', multiple: true, description: 'manifest file, directory, or - for stdin (repeatable)', helpGroup: 'INPUT'}),
  recursive: Flags.boolean({char: 'R', description: 'process directories given with -f recursively', helpGroup: 'INPUT'}),
  kustomize: Flags.string({char: 'k', multiple: true, description: 'kustomization directory (rendered with `kubectl kustomize`)', helpGroup: 'INPUT'}),
  config: Flags.string({description: 'safe-deploy config file (default: ./.safe-deploy.yaml when present)', helpGroup: 'INPUT'}),
  profile: Flags.string({description: 'profile from the config file (e.g. prod)', env: 'SAFE_DEPLOY_PROFILE', helpGroup: 'INPUT'}),
}

export const registryFlags = {
  'registry-ca-cert': Flags.string({description: 'PEM file with a private CA to trust for registries', helpGroup: 'REGISTRY'}),
  'insecure-registry': Flags.string({multiple: true, description: 'HOST[:PORT] reached over plain HTTP (repeatable; never implied)', helpGroup: 'REGISTRY'}),
  'registry-mirror': Flags.string({multiple: true, description: 'FROM=TO: resolve FROM\'s references through the mirror TO; output keeps FROM\'s names (repeatable)', helpGroup: 'REGISTRY'}),
  concurrency: Flags.integer({default: 16, min: 1, max: 256, description: 'registry requests in flight', helpGroup: 'REGISTRY'}),
  'registry-timeout': Flags.integer({default: 15, min: 1, description: 'per-request registry timeout in seconds', helpGroup: 'REGISTRY'}),
  retries: Flags.integer({default: 4, min: 0, max: 10, description: 'retries on 429/5xx/timeouts (exponential backoff with jitter)', helpGroup: 'REGISTRY'}),
}

export const pinFlags = {
  'strip-tag': Flags.boolean({description: 'write name@sha256:… instead of name:tag@sha256:…', helpGroup: 'PIN'}),
  lock: Flags.string({description: 'replay digests from this lock file; no registry calls; fails on any image missing from it', helpGroup: 'PIN'}),
  'lock-output': Flags.string({description: 'write a lock file (tag, digest, registry, platform, time)', helpGroup: 'PIN'}),
}
