/** `safe-deploy init` with plain fakes: the files planned, what is asked, what is kept, what is written (and when nothing is). */
import {describe, expect, it} from '@jest/globals'
import {parse as parseYaml} from 'yaml'
import {INIT_ABORTED, runInit, type GeneratedFile, type InitOptions, type InitPorts, type InitQuestions} from '../../../src/app/init.js'
import {SafeDeployError} from '../../../src/core/errors.js'
import {gkeClusterOfContext, parseEnv, planInitFiles} from '../../../src/core/init-plan.js'

/** Templates that show which variables they were given. */
const TEMPLATES: Record<string, string> = {
  'policies/dev.yaml': 'dev policy for {{env}} in {{project}}\n',
  'policies/staging.yaml': 'staging policy for {{env}} in {{project}}\n{{attestorList}}\n',
  'policies/prod.yaml': 'prod policy for {{env}} in {{project}}\n{{attestorList}}\n',
  'ci/github-actions.yml': 'gh: {{deployCommand}} --profile {{env}} image {{image}}\n',
  'ci/github-pr-preflight.yml': 'gh pr: uses {{actionRef}} files {{manifestFiles}} --profile {{env}}\n',
  'ci/gitlab-ci.yml': 'gitlab: attest {{attestor}} key {{kmsKey}}\n',
  'ci/cloudbuild.yaml': 'cloudbuild: {{deployCommand}}\n',
}

/** A directory (path → text), a log of questions and writes, and the answers to give. */
function fakes(
  existing: Record<string, string> = {},
  answers: {overwrite?: Record<string, boolean | 'ctrl-c'>; confirm?: boolean; inputs?: Record<string, string>} = {},
) {
  const dir = new Map(Object.entries(existing))
  const log: string[] = []
  const writes: GeneratedFile[][] = []
  const reply = <T>(question: string, value: T | undefined): T => {
    log.push(`ask ${question}`)
    if (value === undefined) throw new Error(`unexpected question: ${question}`)
    return value
  }
  const ask: InitQuestions = {
    select: async (m, choices) => reply(m, choices.find((c) => c.value === answers.inputs?.[m])?.value),
    input: async (m, opts) => reply(m, answers.inputs?.[m] ?? opts?.default),
    checkbox: async (m, choices) =>
      reply(
        m,
        choices.filter((c) => (answers.inputs?.[m] ?? '').split(',').includes(c.value)).map((c) => c.value),
      ),
    confirm: async (m) => reply(m, answers.confirm ?? true),
  }
  const ports: InitPorts = {
    readTemplate: (p) => {
      const t = TEMPLATES[p]
      if (t === undefined) throw new Error(`no template ${p}`)
      return t
    },
    readExisting: (p) => dir.get(p),
    writeFiles: async (files) => {
      log.push(`write ${files.map((f) => f.path).join(' ')}`)
      writes.push([...files])
      for (const f of files) dir.set(f.path, f.text)
    },
    ask,
    confirmOverwrite: async (p) => {
      const a = reply(`overwrite ${p}`, answers.overwrite?.[p])
      if (a === 'ctrl-c') throw new SafeDeployError('ABORTED', INIT_ABORTED)
      return a
    },
  }
  return {dir, log, writes, ports}
}

const GKE: InitOptions = {
  platform: 'gke',
  project: 'acme-shop',
  env: ['dev=gke_acme-shop_us-central1_dev', 'prod=gke_acme-prod_us-east1_prod@acme-prod'],
  attestors: ['built-by-ci'],
  ci: ['github'],
  actionRef: 'acme-tools/safe-deploy@v1.2.0',
  interactive: false,
  force: false,
}
const CLOUDRUN: InitOptions = {
  platform: 'cloudrun',
  project: 'acme-run',
  env: ['staging=europe-west2', 'prod=europe-west2'],
  attestors: ['built-by-ci'],
  ci: ['gitlab', 'cloudbuild'],
  kmsKey: 'projects/acme-run/locations/europe-west2/keyRings/ci/cryptoKeys/attestor/cryptoKeyVersions/3',
  interactive: false,
  force: false,
}
const BOTH: InitOptions = {
  platform: 'both',
  project: 'acme-both',
  env: ['dev=gke_acme-both_us-central1_dev,us-central1', 'prod=gke_acme-both_us-east1_prod,us-east1'],
  attestors: ['projects/acme-sec/attestors/scanned'],
  ci: ['github', 'gitlab', 'cloudbuild'],
  image: 'us-docker.pkg.dev/acme-both/app/web',
  actionRef: 'acme-tools/safe-deploy/action@main',
  interactive: false,
  force: false,
}

/** The files as they are the first time, for "exists" cases. */
async function firstRun(options: InitOptions): Promise<Record<string, string>> {
  const {dir, ports} = fakes()
  await runInit(options, ports)
  return Object.fromEntries(dir)
}

describe('runInit: the files planned from the answers', () => {
  it('gke: .safe-deploy.yaml, a policy per environment, the GitHub workflows; profiles with contexts', async () => {
    const {dir, log, ports} = fakes()
    const r = await runInit(GKE, ports)
    const files = [
      '.safe-deploy.yaml',
      'policies/dev.yaml',
      'policies/prod.yaml',
      '.github/workflows/safe-deploy.yml',
      '.github/workflows/safe-deploy-preflight.yml',
    ]
    expect(r).toEqual({answers: expect.anything(), written: files, skipped: [], unchanged: []})
    expect(log).toEqual([`write ${files.join(' ')}`])
    expect(parseYaml(dir.get('.safe-deploy.yaml') ?? '')).toEqual({
      apiVersion: 'safe-deploy.dev/v1',
      kind: 'Config',
      defaultProfile: 'dev',
      profiles: {
        dev: {target: 'gke', project: 'acme-shop', context: 'gke_acme-shop_us-central1_dev', policy: 'policies/dev.yaml', reportMd: 'preflight.md'},
        prod: {
          target: 'gke',
          project: 'acme-prod',
          context: 'gke_acme-prod_us-east1_prod',
          policy: 'policies/prod.yaml',
          reportMd: 'preflight.md',
          requireEnforcement: true,
        },
      },
    })
    expect(dir.get('policies/prod.yaml')).toBe('prod policy for prod in acme-prod\n  - projects/acme-prod/attestors/built-by-ci\n')
    expect(dir.get('policies/dev.yaml')).toBe('dev policy for dev in acme-shop\n')
    expect(dir.get('.github/workflows/safe-deploy.yml')).toBe(
      'gh: apply -f k8s/ --report-md preflight.md --profile prod image us-docker.pkg.dev/acme-prod/app/app\n',
    )
    expect(dir.get('.github/workflows/safe-deploy-preflight.yml')).toBe('gh pr: uses acme-tools/safe-deploy@v1.2.0 files k8s/ --profile prod\n')
  })

  it('cloudrun: profiles with regions, GitLab and Cloud Build templates with run replace and the KMS key', async () => {
    const {dir, ports} = fakes()
    const r = await runInit(CLOUDRUN, ports)
    expect(r.written).toEqual(['.safe-deploy.yaml', 'policies/staging.yaml', 'policies/prod.yaml', '.gitlab-ci.safe-deploy.yml', 'cloudbuild.safe-deploy.yaml'])
    expect(parseYaml(dir.get('.safe-deploy.yaml') ?? '').profiles.staging).toEqual({
      target: 'cloudrun',
      project: 'acme-run',
      region: 'europe-west2',
      policy: 'policies/staging.yaml',
      reportMd: 'preflight.md',
    })
    expect(dir.get('.gitlab-ci.safe-deploy.yml')).toBe(`gitlab: attest projects/acme-run/attestors/built-by-ci key ${CLOUDRUN.kmsKey}\n`)
    expect(dir.get('cloudbuild.safe-deploy.yaml')).toBe('cloudbuild: run replace service.yaml\n')
  })

  it('both: GKE profiles that also carry the Cloud Run region, every CI template, a full attestor name kept as given', async () => {
    const {dir, ports} = fakes()
    const r = await runInit(BOTH, ports)
    expect(r.written).toEqual([
      '.safe-deploy.yaml',
      'policies/dev.yaml',
      'policies/prod.yaml',
      '.github/workflows/safe-deploy.yml',
      '.github/workflows/safe-deploy-preflight.yml',
      '.gitlab-ci.safe-deploy.yml',
      'cloudbuild.safe-deploy.yaml',
    ])
    expect(parseYaml(dir.get('.safe-deploy.yaml') ?? '').profiles.prod).toMatchObject({
      target: 'gke',
      context: 'gke_acme-both_us-east1_prod',
      region: 'us-east1',
    })
    expect(dir.get('policies/prod.yaml')).toContain('  - projects/acme-sec/attestors/scanned\n')
    expect(dir.get('.github/workflows/safe-deploy.yml')).toContain('image us-docker.pkg.dev/acme-both/app/web')
  })

  it('invalid answers are one USAGE error naming each problem; nothing read from the directory, nothing written', async () => {
    const {log, ports} = fakes()
    await expect(runInit({...GKE, project: 'Acme', env: ['Prod=x']}, ports)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringMatching(/project "Acme" is not a valid project id[\s\S]*environment name "Prod"/),
    })
    expect(log).toEqual([])
  })

  it('the GitHub workflows need the action reference, and one that cannot break out of the YAML', async () => {
    const {log, ports} = fakes()
    const {actionRef: _, ...noRef} = GKE
    await expect(runInit(noRef, ports)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('the GitHub workflows need the safe-deploy action: pass --action-ref OWNER/REPO@REF'),
    })
    for (const bad of ['acme/safe-deploy', 'acme safe-deploy@v1', 'acme/safe-deploy@v1\n  run: curl evil', 'acme/safe-deploy@v1 # x', './local'])
      await expect(runInit({...GKE, actionRef: bad}, ports)).rejects.toMatchObject({
        code: 'USAGE',
        message: expect.stringContaining(`action-ref "${bad}" must be OWNER/REPO[/PATH]@REF`),
      })
    // Without GitHub templates no reference is needed.
    await expect(runInit({...noRef, ci: ['gitlab']}, ports)).resolves.toMatchObject({written: expect.arrayContaining(['.gitlab-ci.safe-deploy.yml'])})
    expect(log.filter((l) => l.startsWith('write'))).toHaveLength(1)
  })

  it('without a terminal the flags must give platform, project and environments', async () => {
    const {ports} = fakes()
    await expect(runInit({interactive: false, force: false, project: 'acme-shop'}, ports)).rejects.toMatchObject({
      code: 'USAGE',
      message: 'non-interactive init needs --target, --env',
    })
  })
})

describe('runInit: existing files', () => {
  it('a changed file is kept without --force (never asked without a terminal); the others are unchanged', async () => {
    const before = {...(await firstRun(CLOUDRUN)), 'policies/prod.yaml': '# mine\n'}
    const {dir, log, ports} = fakes(before)
    const r = await runInit(CLOUDRUN, ports)
    expect(r.written).toEqual([])
    expect(r.skipped).toContain('policies/prod.yaml')
    expect(r.unchanged).not.toContain('policies/prod.yaml')
    expect(r.unchanged).toHaveLength(4)
    expect(log).toEqual([])
    expect(Object.fromEntries(dir)).toEqual(before)
  })

  it('--force overwrites it, without asking (even in a terminal); identical files are not rewritten', async () => {
    const first = await firstRun(CLOUDRUN)
    const {dir, log, ports} = fakes({...first, 'policies/prod.yaml': '# mine\n'})
    const r = await runInit({...CLOUDRUN, force: true, interactive: true}, ports)
    expect(r.written).toEqual(['policies/prod.yaml'])
    expect(r.skipped).toEqual(r.unchanged)
    expect(log).toEqual(['ask Write .safe-deploy.yaml, 2 policies and 2 CI template set(s)?', 'write policies/prod.yaml'])
    expect(dir.get('policies/prod.yaml')).toBe(first['policies/prod.yaml'])
  })

  it('an identical file is reported unchanged and never asked about', async () => {
    const first = await firstRun(GKE)
    const {log, ports} = fakes(first)
    const r = await runInit({...GKE, interactive: true}, ports)
    expect(r).toMatchObject({written: [], skipped: Object.keys(first), unchanged: Object.keys(first)})
    expect(log).toEqual(['ask Write .safe-deploy.yaml, 2 policies and 1 CI template set(s)?'])
  })

  it('a declined overwrite writes nothing (the file is kept, reported skipped)', async () => {
    const before = {...(await firstRun(GKE)), 'policies/dev.yaml': '# mine\n'}
    const {dir, log, ports} = fakes(before, {overwrite: {'policies/dev.yaml': false}})
    const r = await runInit({...GKE, interactive: true}, ports)
    expect(r.written).toEqual([])
    expect(r.skipped).toContain('policies/dev.yaml')
    expect(r.unchanged).not.toContain('policies/dev.yaml')
    expect(log).toEqual(['ask Write .safe-deploy.yaml, 2 policies and 1 CI template set(s)?', 'ask overwrite policies/dev.yaml'])
    expect(Object.fromEntries(dir)).toEqual(before)
  })

  it('every overwrite question comes before the one write of the accepted and the new files', async () => {
    const {log, ports} = fakes(
      {'policies/dev.yaml': '# mine\n', 'policies/prod.yaml': '# mine too\n'},
      {overwrite: {'policies/dev.yaml': false, 'policies/prod.yaml': true}},
    )
    const r = await runInit({...GKE, interactive: true}, ports)
    expect(log).toEqual([
      'ask Write .safe-deploy.yaml, 2 policies and 1 CI template set(s)?',
      'ask overwrite policies/dev.yaml',
      'ask overwrite policies/prod.yaml',
      'write .safe-deploy.yaml policies/prod.yaml .github/workflows/safe-deploy.yml .github/workflows/safe-deploy-preflight.yml',
    ])
    expect(r).toMatchObject({skipped: ['policies/dev.yaml'], unchanged: []})
  })

  it('Ctrl-C at an overwrite question: ABORTED, and not even the new files planned before it are written', async () => {
    const {writes, ports} = fakes({'policies/dev.yaml': '# mine\n'}, {overwrite: {'policies/dev.yaml': 'ctrl-c'}})
    await expect(runInit({...GKE, interactive: true}, ports)).rejects.toMatchObject({code: 'ABORTED', exitCode: 9, message: INIT_ABORTED})
    expect(writes).toEqual([])
  })
})

describe('runInit: the wizard', () => {
  it('asks what the flags leave open, in order, with the defaults; then the final confirmation; then writes', async () => {
    const {log, ports} = fakes(
      {},
      {
        inputs: {
          'Where do you deploy?': 'cloudrun',
          'Google Cloud project id:': 'wiz-proj',
          'Environments (comma-separated, in promotion order):': 'staging, prod',
          'staging: Cloud Run region:': 'europe-west2',
          'CI templates to write:': 'gitlab',
        },
      },
    )
    const r = await runInit({interactive: true, force: false}, ports)
    expect(log).toEqual([
      'ask Where do you deploy?',
      'ask Google Cloud project id:',
      'ask Environments (comma-separated, in promotion order):',
      'ask staging: Cloud Run region:',
      'ask prod: Cloud Run region:',
      'ask Attestors required in staging/prod (comma-separated names):',
      'ask CI templates to write:',
      'ask Write .safe-deploy.yaml, 2 policies and 1 CI template set(s)?',
      'write .safe-deploy.yaml policies/staging.yaml policies/prod.yaml .gitlab-ci.safe-deploy.yml',
    ])
    expect(r.answers).toEqual({
      platform: 'cloudrun',
      project: 'wiz-proj',
      attestors: ['built-by-ci'],
      ci: ['gitlab'],
      environments: [
        {name: 'staging', kind: 'staging', project: 'wiz-proj', region: 'europe-west2'},
        {name: 'prod', kind: 'prod', project: 'wiz-proj', region: 'us-central1'},
      ],
    })
  })

  it('answers given as flags are not asked again; an --env keeps its context and @PROJECT', async () => {
    const {log, ports} = fakes({}, {inputs: {'Google Cloud project id:': 'wiz-proj'}})
    const r = await runInit(
      {
        interactive: true,
        force: false,
        platform: 'gke',
        env: ['prod=gke_other-proj_europe-west1_prod@other-proj'],
        ci: ['github'],
        actionRef: 'acme-tools/safe-deploy@v1.2.0',
      },
      ports,
    )
    expect(log.filter((l) => l.startsWith('ask'))).toEqual([
      'ask Google Cloud project id:',
      'ask Attestors required in staging/prod (comma-separated names):',
      'ask Write .safe-deploy.yaml, 1 policy and 1 CI template set(s)?',
    ])
    expect(r.answers.environments).toEqual([{name: 'prod', kind: 'prod', project: 'other-proj', context: 'gke_other-proj_europe-west1_prod'}])
  })

  it('declining the final confirmation is ABORTED (exit 9): nothing is read from the directory or written', async () => {
    const {log, writes, ports} = fakes({}, {confirm: false})
    await expect(
      runInit(
        {...CLOUDRUN, interactive: true},
        {
          ...ports,
          readExisting: (p) => {
            throw new Error(`read ${p}`)
          },
        },
      ),
    ).rejects.toMatchObject({code: 'ABORTED', exitCode: 9, message: INIT_ABORTED})
    expect(log).toEqual(['ask Write .safe-deploy.yaml, 2 policies and 2 CI template set(s)?'])
    expect(writes).toEqual([])
  })

  it('the wizard validates what it asks: an invalid project id is refused with the reason', async () => {
    let validate: ((v: string) => true | string) | undefined
    const {ports} = fakes()
    const ask: InitQuestions = {
      ...ports.ask,
      input: async (_m, opts) => {
        validate = opts?.validate
        throw new SafeDeployError('ABORTED', INIT_ABORTED)
      },
    }
    await expect(runInit({interactive: true, force: false, platform: 'gke'}, {...ports, ask})).rejects.toMatchObject({code: 'ABORTED'})
    expect(validate?.('Bad')).toBe('a project id is 6-30 lowercase letters, digits and hyphens')
    expect(validate?.('good-proj')).toBe(true)
  })
})

describe('planInitFiles: CI templates with platform sections and the prod cluster', () => {
  const CI = [
    '# header',
    'steps:',
    '  - auth',
    '  # {{#gke}}',
    '  - creds {{clusterName}} {{clusterLocation}} {{clusterProject}} ctx {{context}}',
    '  # {{/gke}}',
    '  # {{#cloudrun}}',
    '  - region only',
    '  # {{/cloudrun}}',
    '  - deploy {{deployCommand}} --profile {{env}} --project {{project}}',
    '',
  ].join('\n')
  const template = (p: string): string => (p.startsWith('ci/') ? CI : (TEMPLATES[p] as string))
  const answers = (platform: 'gke' | 'cloudrun' | 'both', env: string) => ({
    platform,
    project: 'acme-shop',
    environments: [parseEnv(env, platform, 'acme-shop')],
    attestors: ['built-by-ci'],
    ci: ['github' as const],
    actionRef: 'acme-tools/safe-deploy@v1.2.0',
  })
  const workflow = (files: Array<{path: string; text: string}>) => files.find((f) => f.path === '.github/workflows/safe-deploy.yml')?.text

  it('gke: the cluster credentials step names the cluster of the prod context; the Cloud Run section and the markers are gone', () => {
    expect(workflow(planInitFiles(answers('gke', 'prod=gke_acme-prod_us-east1_prod@acme-prod'), template))).toBe(
      [
        '# header',
        'steps:',
        '  - auth',
        '  - creds prod us-east1 acme-prod ctx gke_acme-prod_us-east1_prod',
        '  - deploy apply -f k8s/ --report-md preflight.md --profile prod --project acme-prod',
        '',
      ].join('\n'),
    )
  })
  it('cloudrun: no cluster step', () => {
    expect(workflow(planInitFiles(answers('cloudrun', 'prod=europe-west2'), template))).toBe(
      ['# header', 'steps:', '  - auth', '  - region only', '  - deploy run replace service.yaml --profile prod --project acme-shop', ''].join('\n'),
    )
  })
  it('a context not named gke_PROJECT_LOCATION_NAME leaves placeholders to fill in', () => {
    expect(workflow(planInitFiles(answers('both', 'prod=prod-admin,us-central1'), template))).toContain(
      '  - creds CLUSTER_NAME CLUSTER_LOCATION acme-shop ctx prod-admin\n',
    )
  })
  it('gkeClusterOfContext', () => {
    expect(gkeClusterOfContext('gke_p-1_europe-west1-b_my_cluster', 'x')).toEqual({project: 'p-1', location: 'europe-west1-b', name: 'my_cluster'})
    expect(gkeClusterOfContext(undefined, 'x')).toEqual({project: 'x', location: 'CLUSTER_LOCATION', name: 'CLUSTER_NAME'})
  })
})
