/**
 * Every outcome of a deploy, from the one pure decision (src/core/deploy.ts): each combination of
 * verdict × mode × break-glass × enforcement × required enforcement × confirmation × applier
 * result, in-process. The expected outcome is derived independently below, rule by rule.
 */
import {describe, expect, it} from '@jest/globals'
import {decideDeploy, enforcementTarget, refusedKubectlArg, type Confirmation, type DeployFacts, type Enforcement} from '../../../src/core/deploy.js'

const VERDICTS = ['ALLOW', 'ALLOW_BREAKGLASS', 'DRYRUN_DENY', 'DENY'] as const
const MODES = ['none', 'client', 'server', 'validate-only'] as const
const ENFORCEMENT: Enforcement[] = [
  {state: 'not-checked'},
  {state: 'enforced', cluster: 'p/l/c', mode: 'PROJECT_SINGLETON_POLICY_ENFORCE'},
  {state: 'off', cluster: 'p/l/c', mode: 'DISABLED'},
  {state: 'unknown', detail: 'PERMISSION_DENIED'},
  {state: 'unidentified', reason: 'the kube context "kind-dev" is not named gke_PROJECT_LOCATION_NAME'},
]
const CONFIRMATIONS: Confirmation[] = [
  {answer: 'granted'},
  {answer: 'declined'},
  {answer: 'unavailable', message: 'confirmation required: x', hint: 'pass --yes'},
]
const APPLIED = [
  {ok: true, detail: '2 object(s) via kubectl'},
  {ok: false, detail: 'kubectl apply exited with status 1'},
]

/** Run the decision the way the gate does: ask, confirm when told, apply when told. */
function walk(facts: Omit<DeployFacts, 'confirmation' | 'applied'>, confirmation: Confirmation, applied: {ok: boolean; detail: string}) {
  const records: string[] = []
  let f: DeployFacts = facts
  let d = decideDeploy(f)
  const warnings = d.warnings
  let asked = false
  for (;;) {
    expect(d.warnings).toEqual(warnings) // the same warnings at every step
    const s = d.step
    if (s.next === 'confirm') {
      expect(asked).toBe(false)
      asked = true
      f = {...f, confirmation}
    } else if (s.next === 'apply') {
      records.push(s.record.outcome)
      f = {...f, applied}
    } else {
      records.push(s.record.outcome)
      return {outcome: s.outcome, records, error: s.error?.code, rethrow: s.rethrow === true, asked, warnings}
    }
    d = decideDeploy(f)
  }
}

const cases: Array<[string, Omit<DeployFacts, 'confirmation' | 'applied'>, Confirmation, {ok: boolean; detail: string}]> = []
for (const verdict of VERDICTS)
  for (const mode of MODES)
    for (const bg of [undefined, 'INC-1: restore'])
      for (const enforcement of ENFORCEMENT)
        for (const requireEnforcement of [false, true])
          for (const c of CONFIRMATIONS)
            for (const applied of APPLIED) {
              const platform = mode === 'validate-only' ? ('cloudrun' as const) : ('gke' as const)
              cases.push([
                `${platform} ${verdict} mode=${mode} bg=${bg !== undefined} enf=${enforcement.state} req=${requireEnforcement} confirm=${c.answer} applied=${applied.ok}`,
                {platform, verdict, mode, ...(bg === undefined ? {} : {breakGlass: bg}), requireEnforcement, enforcement},
                c,
                applied,
              ])
            }

describe('decideDeploy: every combination', () => {
  it(`covers ${cases.length} combinations`, () => expect(cases.length).toBe(4 * 4 * 2 * 5 * 2 * 3 * 2))
  it.each(cases)('%s', (_name, facts, confirmation, applied) => {
    const r = walk(facts, confirmation, applied)
    const live = facts.mode === 'none'
    // Rule 1: a denial blocks first, and nothing else happens.
    if (facts.verdict === 'DENY') {
      expect(r).toMatchObject({outcome: 'blocked', records: ['blocked'], error: undefined, asked: false})
      return
    }
    // Rule 2: required enforcement that is off, unknown, or on a cluster that is not identified blocks before any confirmation.
    if (facts.requireEnforcement && ['off', 'unknown', 'unidentified'].includes(facts.enforcement.state)) {
      expect(r).toMatchObject({outcome: 'blocked', records: ['blocked'], error: facts.enforcement.state === 'off' ? 'DENIED' : 'API_ERROR', asked: false})
      return
    }
    // Rule 3: only a live deploy is confirmed; a refusal aborts before "started".
    expect(r.asked).toBe(live)
    if (live && confirmation.answer !== 'granted') {
      expect(r).toMatchObject({outcome: 'aborted', records: ['aborted'], error: confirmation.answer === 'declined' ? 'ABORTED' : 'CONFIRMATION_REQUIRED'})
      return
    }
    // Rule 4: started, then applied / dry-run, or failed (the applier's error is rethrown).
    if (applied.ok) expect(r).toMatchObject({outcome: live ? 'applied' : 'dry-run', records: ['started', live ? 'applied' : 'dry-run'], error: undefined})
    else expect(r).toMatchObject({outcome: 'failed', records: ['started', 'failed'], rethrow: true})
    // Warnings: dry-run denials, break-glass, and enforcement that is off or unknown (not required); an
    // unidentified cluster is not checked when enforcement is not required (no warning, as before).
    expect(r.warnings.some((w) => w.startsWith('DRY-RUN DENIAL'))).toBe(facts.verdict === 'DRYRUN_DENY')
    expect(r.warnings.some((w) => w.startsWith('BREAK-GLASS'))).toBe(facts.breakGlass !== undefined)
    expect(r.warnings.some((w) => /enforcement/.test(w))).toBe(facts.enforcement.state === 'off' || facts.enforcement.state === 'unknown')
  })
})

describe('decideDeploy: the audit details', () => {
  const base = {platform: 'gke' as const, verdict: 'ALLOW' as const, requireEnforcement: false, enforcement: {state: 'not-checked' as const}}
  it('started says live or which dry run; Cloud Run says deploying or validate-only', () => {
    expect(decideDeploy({...base, mode: 'none', confirmation: {answer: 'granted'}}).step).toEqual({
      next: 'apply',
      record: {outcome: 'started', detail: 'applying (live)'},
    })
    expect(decideDeploy({...base, mode: 'server'}).step).toEqual({next: 'apply', record: {outcome: 'started', detail: 'applying (dry-run server)'}})
    expect(decideDeploy({...base, platform: 'cloudrun', mode: 'validate-only'}).step).toEqual({
      next: 'apply',
      record: {outcome: 'started', detail: 'validate-only request'},
    })
    expect(decideDeploy({...base, platform: 'cloudrun', mode: 'none', confirmation: {answer: 'granted'}}).step).toEqual({
      next: 'apply',
      record: {outcome: 'started', detail: 'deploying'},
    })
  })
  it('a denial names what was not done; enforcement off names the cluster and the fix', () => {
    expect(decideDeploy({...base, verdict: 'DENY', mode: 'none'}).step).toMatchObject({
      record: {outcome: 'blocked', detail: 'denied by policy; nothing applied'},
    })
    expect(decideDeploy({...base, platform: 'cloudrun', verdict: 'DENY', mode: 'none'}).step).toMatchObject({
      record: {detail: 'denied by policy; nothing deployed'},
    })
    const off = decideDeploy({...base, mode: 'none', requireEnforcement: true, enforcement: {state: 'off', cluster: 'p/us/c', mode: 'DISABLED'}}).step
    expect(off).toMatchObject({
      error: {
        code: 'DENIED',
        message: expect.stringMatching(/OFF on cluster p\/us\/c \(evaluation mode DISABLED\)/),
        hint: expect.stringMatching(/binauthz-evaluation-mode/),
      },
    })
  })
  it('required enforcement on a cluster that is not identified: blocked (exit 4), the reason and how to name the cluster', () => {
    const reason = 'the kube context "kind-dev" is not named gke_PROJECT_LOCATION_NAME, and no --cluster/--project names the cluster'
    const step = decideDeploy({...base, mode: 'none', requireEnforcement: true, enforcement: {state: 'unidentified', reason}}).step
    expect(step).toEqual({
      next: 'stop',
      outcome: 'blocked',
      record: {outcome: 'blocked', detail: `could not verify enforcement: ${reason}`},
      error: {
        code: 'API_ERROR',
        message: `cannot verify that Binary Authorization is enforced: ${reason}`,
        hint: expect.stringMatching(/--cluster LOCATION\.NAME.*--project PROJECT.*gke_PROJECT_LOCATION_NAME/),
      },
    })
    // Not required: deployed as before, without a warning.
    const free = decideDeploy({...base, mode: 'server', enforcement: {state: 'unidentified', reason}})
    expect(free).toEqual({warnings: [], step: {next: 'apply', record: {outcome: 'started', detail: 'applying (dry-run server)'}}})
  })
  it('Ctrl-C at the prompt is a declined deploy with its own message', () => {
    expect(decideDeploy({...base, mode: 'none', confirmation: {answer: 'declined', message: 'aborted (Ctrl-C): nothing was deployed'}}).step).toMatchObject({
      next: 'stop',
      outcome: 'aborted',
      error: {code: 'ABORTED', message: 'aborted (Ctrl-C): nothing was deployed'},
    })
  })
})

describe('enforcementTarget: which GKE cluster the enforcement check reads', () => {
  const gke = {project: 'p1', location: 'us-east1', name: 'prod'}
  it("the kube context's own GKE cluster (where the deploy goes), even when --cluster/--project name another", () => {
    expect(enforcementTarget({context: 'gke_p1_us-east1_prod', contextCluster: gke})).toEqual({cluster: gke, key: 'us-east1.prod', via: 'context'})
    expect(enforcementTarget({context: 'gke_p1_us-east1_prod', contextCluster: gke, cluster: 'us-central1.other', project: 'p2'})).toEqual({
      cluster: gke,
      key: 'us-east1.prod',
      via: 'context',
    })
  })
  it('--cluster LOCATION.NAME with --project when the context is not a GKE one', () => {
    expect(enforcementTarget({context: 'connectgateway_p1_global_prod', cluster: 'us-east1.prod', project: 'p1'})).toEqual({
      cluster: gke,
      key: 'us-east1.prod',
      via: 'flags',
    })
    expect(enforcementTarget({cluster: 'europe-west1-b.a.b', project: 'p1'})).toMatchObject({cluster: {location: 'europe-west1-b', name: 'a.b'}})
  })
  it.each([
    [{context: 'kind-dev'}, 'the kube context "kind-dev" is not named gke_PROJECT_LOCATION_NAME, and no --cluster/--project names the cluster'],
    [{}, 'no kube context, and no --cluster/--project names the cluster'],
    [{context: 'kind-dev', cluster: 'us-east1.prod'}, '--cluster us-east1.prod needs --project PROJECT to name the GKE cluster'],
    [
      {context: 'kind-dev', project: 'p1'},
      'the kube context "kind-dev" is not named gke_PROJECT_LOCATION_NAME, and --project p1 needs --cluster LOCATION.NAME to name the GKE cluster',
    ],
    [{cluster: 'prod', project: 'p1'}, '--cluster prod is not LOCATION.NAME'],
  ])('unidentified: %j', (input, reason) => {
    expect(enforcementTarget(input)).toEqual({unidentified: reason})
  })
})

describe('refusedKubectlArg: arguments after -- that would add inputs or change the target', () => {
  it.each([
    [['-f', 'x.yaml'], '-f'],
    [['--filename=x'], '--filename=x'],
    [['-Rf', 'x'], '-Rf'],
    [['-fx.yaml'], '-fx.yaml'],
    [['-k', '.'], '-k'],
    [['--kustomize=.'], '--kustomize=.'],
    [['--recursive'], '--recursive'],
    [['--context', 'c'], '--context'],
    [['--kubeconfig', 'k'], '--kubeconfig'],
    [['-n', 'ns'], '-n'],
    [['-nns'], '-nns'],
    [['--namespace=ns'], '--namespace=ns'],
    [['-s', 'https://x'], '-s'],
    [['--server=https://x'], '--server=https://x'],
    [['--cluster', 'c'], '--cluster'],
    [['--dry-run=none'], '--dry-run=none'],
    [['-o', 'json'], '-o'],
    [['--output=yaml'], '--output=yaml'],
    [['--request-timeout=5s', '-f', 'x'], '-f'],
  ])('%j → refused at %s', (args, arg) => {
    expect(refusedKubectlArg(args)?.arg).toBe(arg)
  })
  it.each([
    [['--request-timeout=42s']],
    [['-l', 'app=web']],
    [['-v=6']],
    [['--server-side']],
    [['--field-manager=ci']],
    [['--prune-allowlist=core/v1/ConfigMap']],
    [['--force-conflicts']],
    [['--cache-dir', '/tmp/c']],
  ])('%j is allowed', (args) => {
    expect(refusedKubectlArg(args)).toBeUndefined()
  })
})
