/**
 * Unexamined image-like values (docs/image-rules.md#unexamined-image-like-values): strings under a
 * key named `image` (or in a list under `images`) that no image rule examined, so they were neither
 * pinned nor pre-flighted. Here: how they are worded as warnings, as an input error (`--strict`,
 * and every deploy unless --allow-unexamined-images), and the imageRules entry that would cover each.
 */
import {SafeDeployError, formatLocation} from '../errors.js'
import type {CustomImageRule, UnexaminedValue} from './types.js'

/** A value as written in a YAML flow mapping: plain when safe, else double-quoted (JSON is valid YAML). */
function flowValue(v: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9_./-]*$/.test(v) ? v : JSON.stringify(v)
}

/** `{apiVersion: example.com/v1, kind: MyApp, path: "spec.components[*].image"}` */
export function ruleSnippet(rule: CustomImageRule): string {
  const apiVersion = rule.apiVersion === undefined ? '' : `apiVersion: ${flowValue(rule.apiVersion)}, `
  return `{${apiVersion}kind: ${flowValue(rule.kind)}, path: ${flowValue(rule.path)}}`
}

/** The `.safe-deploy.yaml` block that covers every value that can be covered (each rule once), or '' when none can. */
export function imageRulesSnippet(values: readonly UnexaminedValue[]): string {
  const rules = [...new Set(values.flatMap((v) => (v.rule ? [ruleSnippet(v.rule)] : [])))]
  return rules.length === 0 ? '' : `imageRules:\n${rules.map((r) => `  - ${r}\n`).join('')}`
}

function where(v: UnexaminedValue): string {
  return `${v.file === '-' ? '<stdin>' : v.file}:${v.line}`
}

function why(v: UnexaminedValue): string {
  const kind = `${v.apiVersion === '' ? '' : v.apiVersion + ' '}${v.kind}`
  return v.reason === 'no-rule' ? `safe-deploy has no image rule for ${kind}` : `safe-deploy's built-in rules for ${kind} do not cover this field`
}

function fix(v: UnexaminedValue): string {
  return v.rule
    ? `if it is an image, cover it in .safe-deploy.yaml: imageRules: [${ruleSnippet(v.rule)}]`
    : 'no imageRules path can name this field (a key holds ".", "[" or "]", or is not a string)'
}

/**
 * One line per value: `k8s/app.yaml:12: MyApp/web: spec.components[0].image: "nginx:1.25" was not
 * examined (…): neither pinned nor pre-flighted; if it is an image, cover it in .safe-deploy.yaml: …`
 */
export function unexaminedWarning(v: UnexaminedValue): string {
  return `${where(v)}: ${v.kind}/${v.name || '(no name)'}: ${v.path}: ${JSON.stringify(v.value)} was not examined (${why(v)}): neither pinned nor pre-flighted; ${fix(v)}`
}

/**
 * INVALID_INPUT listing every value (exit 3): `--strict`, and every deploy unless
 * --allow-unexamined-images. Nothing is written or deployed.
 */
export function unexaminedError(values: readonly UnexaminedValue[], opts: {deploy: boolean}): SafeDeployError {
  const errors = values.map(
    (v) =>
      new SafeDeployError(
        'INVALID_INPUT',
        `${formatLocation({file: v.file, document: v.document, path: v.path, line: v.line})}${JSON.stringify(v.value)} was not examined: ${why(v)}`,
        {
          location: {file: v.file, document: v.document, path: v.path, line: v.line},
          // The rule that covers it is in the overall hint; only a field no rule can name gets its own.
          ...(v.rule ? {} : {hint: fix(v)}),
        },
      ),
  )
  const snippet = imageRulesSnippet(values)
  const hint =
    (snippet ? `if these are images, add to .safe-deploy.yaml:\n${snippet}` : 'no imageRules path can name these fields') +
    (opts.deploy ? '\n(or, knowing that they are neither pinned nor pre-flighted, pass --allow-unexamined-images)' : '')
  return new SafeDeployError('INVALID_INPUT', `${values.length} image-like value(s) that no image rule examined; nothing was written or deployed:`, {
    errors,
    hint,
  })
}
