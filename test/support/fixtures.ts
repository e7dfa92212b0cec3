/**
 * Shared test fixtures: one Deployment/Service manifest builder, a temp directory, and the registry +
 * attestor + policy set-up the CLI suites share (test/e2e/cli). Builders return YAML text; what a
 * suite asserts about that text (comments that must survive, the image line number) is chosen
 * through the options, so every suite builds its manifests here.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {runCli, type CliResult} from './cli.js'
import {startRegistry, type StartRegistryOptions, type TestRegistry} from './registry.js'
import {makeAttestor, requireAttestationPolicy, type TestAttestor} from './trust.js'

export interface DeploymentOptions {
  namespace?: string
  /** metadata.labels (flow style); none when omitted. */
  labels?: Record<string, string>
  replicas?: number
  /** spec.selector.matchLabels and the pod template's labels, both {app: <name>} (default true). */
  selector?: boolean
  serviceAccountName?: string
  /** The container's name (default: the Deployment's name). */
  container?: string
  /** containerPort entries. */
  ports?: number[]
  /** Further container fields, one line each, e.g. `args: ["--flag", 'x']  # flow style stays`. */
  containerLines?: string[]
  /** A comment line before `apiVersion` (without the `# `). */
  comment?: string
  /** A comment after `name: <name>` in metadata. */
  nameComment?: string
  /** A comment after the image value (three spaces, then `# ...`). */
  imageComment?: string
}

const flow = (m: Record<string, string>): string =>
  `{${Object.entries(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ')}}`

/**
 * An apps/v1 Deployment with one container. Block style, containers at `      - name:`; the image
 * line is line 11 when only `comment` (and `nameComment`) are set with `selector: false`.
 */
export function deployment(name: string, image: string, opts: DeploymentOptions = {}): string {
  const selector = opts.selector ?? true
  const lines = [
    ...(opts.comment === undefined ? [] : [`# ${opts.comment}`]),
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}${opts.nameComment === undefined ? '' : `   # ${opts.nameComment}`}`,
    ...(opts.namespace === undefined ? [] : [`  namespace: ${opts.namespace}`]),
    ...(opts.labels === undefined ? [] : [`  labels: ${flow(opts.labels)}`]),
    'spec:',
    ...(opts.replicas === undefined ? [] : [`  replicas: ${opts.replicas}`]),
    ...(selector ? ['  selector:', `    matchLabels: {app: ${name}}`] : []),
    '  template:',
    ...(selector ? ['    metadata:', `      labels: {app: ${name}}`] : []),
    '    spec:',
    ...(opts.serviceAccountName === undefined ? [] : [`      serviceAccountName: ${opts.serviceAccountName}`]),
    '      containers:',
    `      - name: ${opts.container ?? name}`,
    `        image: ${image}${opts.imageComment === undefined ? '' : `   # ${opts.imageComment}`}`,
    ...(opts.ports === undefined || opts.ports.length === 0 ? [] : ['        ports:', ...opts.ports.map((p) => `        - containerPort: ${p}`)]),
    ...(opts.containerLines ?? []).map((l) => `        ${l}`),
  ]
  return lines.join('\n') + '\n'
}

/** A v1 Service selecting {app: <name>}, port 80 → 8080. */
export function service(name: string, opts: {labels?: Record<string, string>} = {}): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels: ${flow(opts.labels ?? {app: name})}
spec:
  selector: {app: ${name}}
  ports:
    - port: 80
      targetPort: 8080
`
}

export function tempDir(prefix = 'sd-test-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

export interface TrustSetupOptions {
  /** mkdtemp prefix of the work directory. */
  prefix: string
  /** The attestor's project (default test-proj). */
  project?: string
  /** Attestor names made under <dir>/attestors, keys under <dir>/keys (default ['built-by-ci']); the first is `ci`. */
  attestors?: Array<string | {name: string; kind: 'ec' | 'rsa'}>
  /** Options of the registry. */
  registry?: StartRegistryOptions
}

export interface AttestOptions {
  attestor?: TestAttestor
  /** Where attestations go (default <dir>/atts). */
  outputDir?: string
  extra?: string[]
  env?: Record<string, string>
}

export interface TrustSetup {
  reg: TestRegistry
  /** The work directory (removed by nothing: it is under the OS temp directory). */
  dir: string
  /** <dir>/attestors: one attestor JSON per attestor. */
  attestors: string
  /** <dir>/keys: the attestors' private keys. */
  keys: string
  /** <dir>/atts, created empty: the attestations `attest` writes. */
  atts: string
  /** The first attestor (built-by-ci unless named otherwise). */
  ci: TestAttestor
  /** Every attestor made, by short name. */
  made: Record<string, TestAttestor>
  /** <dir>/policy.yaml: REQUIRE_ATTESTATION by `ci`, enforced. */
  policy: string
  /** <dir>/policy-dryrun.yaml: the same rule, DRYRUN_AUDIT_LOG_ONLY. */
  dryrunPolicy: string
  /** `safe-deploy attest --image <image>` with `ci`'s key into <dir>/atts (insecure registry), as a CLI result. */
  attest(image: string, opts?: AttestOptions): Promise<CliResult>
  /** The same, throwing with stderr unless it exits 0 (for set-up). */
  attestOk(image: string, opts?: AttestOptions): Promise<void>
  stop(): Promise<void>
}

/**
 * A real registry and the local trust material of the CLI suites: attestors with their keys, an
 * empty attestations directory, and enforced and dry-run policies requiring the first attestor.
 */
export async function startTrustSetup(opts: TrustSetupOptions): Promise<TrustSetup> {
  const reg = await startRegistry(opts.registry)
  const dir = mkdtempSync(join(tmpdir(), opts.prefix))
  const attestors = join(dir, 'attestors')
  const keys = join(dir, 'keys')
  const atts = join(dir, 'atts')
  mkdirSync(atts)
  const made: Record<string, TestAttestor> = {}
  for (const a of opts.attestors ?? ['built-by-ci']) {
    const {name, kind} = typeof a === 'string' ? {name: a, kind: 'ec' as const} : a
    made[name] = makeAttestor(attestors, keys, opts.project ?? 'test-proj', name, kind)
  }
  const ci = Object.values(made)[0] as TestAttestor
  const policy = join(dir, 'policy.yaml')
  writeFileSync(policy, requireAttestationPolicy([ci.name]))
  const dryrunPolicy = join(dir, 'policy-dryrun.yaml')
  writeFileSync(dryrunPolicy, requireAttestationPolicy([ci.name], 'DRYRUN_AUDIT_LOG_ONLY'))
  const attest = (image: string, a: AttestOptions = {}): Promise<CliResult> => {
    const who = a.attestor ?? ci
    return runCli(
      [
        'attest',
        '--image',
        image,
        '--attestor',
        who.name,
        '--attestors',
        attestors,
        '--private-key',
        who.privateKeyFile,
        '--output-dir',
        a.outputDir ?? atts,
        '--insecure-registry',
        reg.host,
        ...(a.extra ?? []),
      ],
      a.env === undefined ? {} : {env: a.env},
    )
  }
  return {
    reg,
    dir,
    attestors,
    keys,
    atts,
    ci,
    made,
    policy,
    dryrunPolicy,
    attest,
    async attestOk(image, a) {
      const r = await attest(image, a)
      if (r.code !== 0) throw new Error(`attest ${image} failed: ${r.stderr}`)
    },
    stop: () => reg.stop(),
  }
}
