/**
 * Strict parsing of a GKE platform policy (docs/platform-policy.md#policy-files): YAML or JSON as
 * `gcloud beta container binauthz policy describe POLICY_ID --platform=gke --format=yaml` writes it and
 * `policy create --policy-file` reads it, or the REST JSON object (`GET v1/projects/P/platforms/gke/policies/ID`).
 *
 * Like src/core/policy/parse.ts, every problem is collected with its file:line, then one SafeDeployError
 * POLICY_INVALID lists them all (exit 7). What gcloud accepts client side is accepted (a scalar where a list is
 * expected, a mapping where checkSets should be a list, `"30"` for a number: docs/platform-policy.md#policy-files) and said in `notes`; what
 * the server would reject (ordering, one kind per check, enum values, patterns: docs/platform-policy.md#policy-files) is a problem, since
 * Google would not have stored such a policy.
 */
import {describe, isNull, objectTree, policyDocumentTree, problemsError, type Problem, type Tree} from '../input-tree.js'
import {checkPkixKey, defaultPkixKeyId, parsePublicKey} from '../attestation/keys.js'
import {validateAllowPattern, validateSourceRepoPattern, validateTrustedDirPattern} from './patterns.js'
import {
  CHECK_KINDS,
  SEVERITIES,
  type AttestationAuthenticator,
  type Check,
  type CheckKind,
  type CheckSet,
  type CheckSpec,
  type ImageAllowlist,
  type MaximumAllowedSeverity,
  type PkixPublicKey,
  type PlatformPolicy,
  type Scope,
  type SigstoreAuthority,
  type SlsaRule,
} from './types.js'

type MapTree = Extract<Tree, {t: 'map'}>

// ---------------------------------------------------------------------------------------------------------------
// Field lists (SDK-MSG, docs/platform-policy.md#policy-files)

const POLICY_FIELDS = ['name', 'description', 'etag', 'updateTime', 'gkePolicy', 'cloudRunPolicy']
const GKE_FIELDS = ['imageAllowlist', 'checkSets']
const ALLOWLIST_FIELDS = ['allowPattern']
const CHECK_SET_FIELDS = ['displayName', 'scope', 'imageAllowlist', 'checks']
const SCOPE_FIELDS = ['kubernetesNamespace', 'kubernetesServiceAccount']
const CHECK_FIELDS = ['displayName', 'imageAllowlist', ...CHECK_KINDS]

const SEVERITY_NUMBERS: Record<number, string> = {
  0: 'MAXIMUM_ALLOWED_SEVERITY_UNSPECIFIED',
  1: 'BLOCK_ALL',
  2: 'MINIMAL',
  3: 'LOW',
  4: 'MEDIUM',
  5: 'HIGH',
  6: 'CRITICAL',
  7: 'ALLOW_ALL',
}
const BUILDER_NUMBERS: Record<number, string> = {0: 'BUILDER_UNSPECIFIED', 1: 'GOOGLE_CLOUD_BUILD'}

/** gcloud validates policy bindings with this regex (SDK-GKE `_BINAUTHZ_GKE_POLICY_REGEX`, docs/platform-policy.md#evaluation). */
export const GKE_POLICY_NAME_RE = /^projects\/([^/]+)\/platforms\/gke\/policies\/([a-zA-Z0-9_-]+)$/
const PROJECT_RE = /^projects\/((?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]*[a-z0-9])$/
const NAMESPACE_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const SA_NAME_RE = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/
const URI_RE = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/
const MAX_PROJECTS = 10

// ---------------------------------------------------------------------------------------------------------------
// Validation

class Checker {
  readonly problems: Problem[] = []
  readonly notes: string[] = []

  add(path: string, line: number | undefined, message: string): void {
    this.problems.push({path, line, message})
  }

  expect(path: string, t: Tree | undefined, expected: string, line?: number): void {
    this.add(path, line ?? t?.line, `expected ${expected}, got ${describe(t)}`)
  }

  unknownFields(path: string, m: MapTree, known: readonly string[], what: string): void {
    for (const e of m.entries) {
      if (known.includes(e.key)) continue
      const camel = e.key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
      const hint = camel !== e.key && known.includes(camel) ? ` (did you mean ${camel}? the file uses the camelCase REST/YAML names)` : ''
      this.add(join(path, e.key), e.keyLine, `expected a known ${what} field (${known.join(', ')}), got unknown field "${e.key}"${hint}`)
    }
  }

  /**
   * A message field. A list here is the published-example mistake that makes gcloud crash
   * (`AttributeError: 'list' object has no attribute 'items'`, docs/platform-policy.md#policy-files): say the right shape.
   */
  message(path: string, t: Tree | undefined, shape: string, line: number | undefined): MapTree | undefined {
    if (t?.t === 'map') return t
    if (t?.t === 'seq') {
      this.add(
        path,
        line ?? t.line,
        `expected a mapping ${shape}, got a list (the form printed in some of Google's examples; gcloud itself crashes on it with "'list' object has no attribute 'items'")`,
      )
      return undefined
    }
    this.expect(path, t, `a mapping ${shape}`, line)
    return undefined
  }

  /** A repeated field: a list, or (as gcloud does) a single value wrapped into a one-element list. */
  list(path: string, t: Tree | undefined, line: number | undefined, what: string): Tree[] {
    if (isNull(t)) return []
    if (t?.t === 'seq') return t.items
    if (t?.t === 'scalar' || t?.t === 'map') {
      this.notes.push(
        `${path}${line === undefined ? '' : ` (line ${line})`}: a single ${what} where gcloud expects a list; read as a one-element list, as gcloud does.`,
      )
      return [t]
    }
    this.expect(path, t, `a list of ${what}`, line)
    return []
  }

  string(path: string, t: Tree | undefined, line?: number): string | undefined {
    if (t?.t === 'scalar' && typeof t.value === 'string') return t.value
    this.expect(path, t, 'a string', line)
    return undefined
  }

  strings(path: string, t: Tree | undefined, line: number | undefined, what: string): Array<{value: string; line: number | undefined}> {
    const out: Array<{value: string; line: number | undefined}> = []
    this.list(path, t, line, what).forEach((item, i) => {
      const s = this.string(`${path}[${i}]`, item)
      if (s !== undefined) out.push({value: s, line: item.line ?? line})
    })
    return out
  }

  bool(path: string, t: Tree | undefined, line: number | undefined): boolean | undefined {
    if (isNull(t)) return undefined
    if (t?.t === 'scalar' && typeof t.value === 'boolean') return t.value
    this.expect(path, t, 'true or false', line)
    return undefined
  }

  enumValue(
    path: string,
    t: Tree | undefined,
    line: number | undefined,
    allowed: readonly string[],
    numbers: Record<number, string>,
    why = '',
  ): string | undefined {
    let v: string | undefined
    if (t?.t === 'scalar' && typeof t.value === 'string') v = t.value
    else if (t?.t === 'scalar' && typeof t.value === 'number') v = numbers[t.value]
    if (v !== undefined && allowed.includes(v)) return v
    const got = isNull(t) ? (t === undefined ? 'nothing (the field is required)' : 'null (the field is required)') : describe(t)
    this.add(path, t?.line ?? line, `expected one of ${allowed.join(', ')}${why}, got ${got}`)
    return undefined
  }

  projects(path: string, t: Tree | undefined, line: number | undefined): string[] {
    const list = this.strings(path, t, line, 'projects/PROJECT_ID')
    if (list.length > MAX_PROJECTS) this.add(path, line, `expected at most ${MAX_PROJECTS} projects, got ${list.length}`)
    const out: string[] = []
    list.forEach(({value, line: l}, i) => {
      if (/^projects\/\d+$/.test(value))
        this.add(`${path}[${i}]`, l, `expected projects/PROJECT_ID ("A project ID must be used, not a project number"), got ${JSON.stringify(value)}`)
      else if (!PROJECT_RE.test(value)) this.add(`${path}[${i}]`, l, `expected projects/PROJECT_ID, got ${JSON.stringify(value)}`)
      else out.push(value)
    })
    return out
  }

  allowlist(path: string, t: Tree | undefined, line: number | undefined): ImageAllowlist | undefined {
    if (isNull(t)) return undefined
    const m = this.message(path, t, '{allowPattern: [PATTERN, ...]}', line)
    if (!m) return undefined
    this.unknownFields(path, m, ALLOWLIST_FIELDS, 'ImageAllowlist')
    const e = m.entries.find((x) => x.key === 'allowPattern')
    const list = this.strings(`${path}.allowPattern`, e?.value, e?.keyLine, 'image patterns')
    if (list.length === 0 && !(e && !isNull(e.value) && e.value.t !== 'seq' && e.value.t !== 'scalar')) {
      this.add(
        `${path}.allowPattern`,
        e?.keyLine ?? line ?? m.line,
        'expected at least one pattern (allowPattern is required when imageAllowlist is present), got none',
      )
    }
    const al: ImageAllowlist = {allowPattern: [], ...(line === undefined ? {} : {line})}
    list.forEach(({value, line: l}, i) => {
      const why = validateAllowPattern(value)
      if (why !== undefined) this.add(`${path}.allowPattern[${i}]`, l, `expected a valid allow pattern (${why}), got ${JSON.stringify(value)}`)
      else al.allowPattern.push({pattern: value, ...(l === undefined ? {} : {line: l})})
    })
    return al
  }

  scope(path: string, t: Tree | undefined, line: number | undefined): Scope | undefined | 'invalid' {
    if (isNull(t)) return undefined
    const m = this.message(path, t, '{kubernetesNamespace: NS} or {kubernetesServiceAccount: NS:SA}', line)
    if (!m) return 'invalid'
    this.unknownFields(path, m, SCOPE_FIELDS, 'Scope')
    const ns = m.entries.find((e) => e.key === 'kubernetesNamespace')
    const sa = m.entries.find((e) => e.key === 'kubernetesServiceAccount')
    const nsValue = ns && !isNull(ns.value) ? this.string(`${path}.kubernetesNamespace`, ns.value, ns.keyLine) : undefined
    const saValue = sa && !isNull(sa.value) ? this.string(`${path}.kubernetesServiceAccount`, sa.value, sa.keyLine) : undefined
    // "unset or an empty string" is the default scope (SDK-MSG CheckSet.scope).
    const nsSet = nsValue !== undefined && nsValue !== ''
    const saSet = saValue !== undefined && saValue !== ''
    if (nsSet && saSet) {
      // [INFERRED] the CV log proto declares the pair as a oneof (docs/platform-policy.md#policy-files).
      this.add(path, line ?? m.line, 'expected at most one of kubernetesNamespace and kubernetesServiceAccount (a scope is one or the other), got both')
      return 'invalid'
    }
    if (saSet) {
      const parts = saValue.split(':')
      if (parts.length !== 2 || !NAMESPACE_RE.test(parts[0] ?? '') || !SA_NAME_RE.test(parts[1] ?? '')) {
        this.add(
          `${path}.kubernetesServiceAccount`,
          sa?.value.line ?? sa?.keyLine,
          `expected NAMESPACE:SERVICE_ACCOUNT (e.g. my-namespace:my-service-account), got ${JSON.stringify(saValue)}`,
        )
        return 'invalid'
      }
      return {kind: 'serviceAccount', namespace: parts[0] as string, serviceAccount: parts[1] as string, value: saValue}
    }
    if (nsSet) {
      if (!NAMESPACE_RE.test(nsValue)) {
        this.add(`${path}.kubernetesNamespace`, ns?.value.line ?? ns?.keyLine, `expected a Kubernetes namespace name, got ${JSON.stringify(nsValue)}`)
        return 'invalid'
      }
      return {kind: 'namespace', namespace: nsValue}
    }
    if ((ns && !isNull(ns.value) && nsValue === undefined) || (sa && !isNull(sa.value) && saValue === undefined)) return 'invalid'
    return undefined
  }

  pkixKey(path: string, t: Tree, line: number | undefined): PkixPublicKey | undefined {
    const m = this.message(path, t, '{publicKeyPem: PEM, signatureAlgorithm: ALGORITHM, keyId: URI}', line)
    if (!m) return undefined
    this.unknownFields(path, m, ['publicKeyPem', 'signatureAlgorithm', 'keyId'], 'PkixPublicKey')
    const get = (k: string) => m.entries.find((e) => e.key === k)
    const pemE = get('publicKeyPem')
    const algE = get('signatureAlgorithm')
    const idE = get('keyId')
    const pem = this.string(`${path}.publicKeyPem`, pemE?.value, pemE?.keyLine ?? m.line)
    const alg = this.string(`${path}.signatureAlgorithm`, algE?.value, algE?.keyLine ?? m.line)
    if (pem === undefined || alg === undefined) return undefined
    const checked = checkPkixKey(pem, alg)
    if (!checked.ok) {
      this.add(`${path}`, pemE?.keyLine ?? m.line, `expected a PEM public key matching its signatureAlgorithm: ${checked.reason}`)
      return undefined
    }
    let keyId: string | undefined
    let computed = false
    if (idE && !isNull(idE.value) && !(idE.value.t === 'scalar' && idE.value.value === '')) {
      keyId = this.string(`${path}.keyId`, idE.value, idE.keyLine)
      if (keyId === undefined) return undefined
      if (!URI_RE.test(keyId)) {
        this.add(`${path}.keyId`, idE.value.line ?? idE.keyLine, `expected an RFC 3986 URI (e.g. ni:///sha-256;…), got ${JSON.stringify(keyId)}`)
        return undefined
      }
    } else {
      // The server fills a blank keyId (DOC-CV "describe a platform policy to retrieve the key ID"); its form is
      // [INFERRED] the attestor default (docs/platform-policy.md#policy-files).
      keyId = defaultPkixKeyId(checked.key)
      computed = true
      this.notes.push(
        `${path}: keyId is blank; using ${keyId}, the default the server computes (assumed to be the attestor default form, docs/platform-policy.md#policy-files).`,
      )
    }
    return {publicKeyPem: pem, signatureAlgorithm: checked.algorithm, keyId, keyIdComputed: computed}
  }

  check(path: string, t: Tree, line: number | undefined): Check | undefined {
    const m = this.message(path, t, '{displayName: ..., <one check kind>: {...}}', line)
    if (!m) return undefined
    this.unknownFields(path, m, CHECK_FIELDS, 'Check')
    const get = (k: string) => m.entries.find((e) => e.key === k)
    const at = line ?? m.line
    const dn = get('displayName')
    const displayName = dn && !isNull(dn.value) ? this.string(`${path}.displayName`, dn.value, dn.keyLine) : undefined
    const al = get('imageAllowlist')
    const imageAllowlist = this.allowlist(`${path}.imageAllowlist`, al?.value, al?.keyLine)
    const kinds = m.entries.filter((e) => (CHECK_KINDS as readonly string[]).includes(e.key))
    if (kinds.length !== 1) {
      // [INFERRED] one CHECK_TYPE per list item (docs/platform-policy.md#policy-files); gcloud passes two kinds to the server.
      this.add(
        path,
        at,
        kinds.length === 0
          ? `expected exactly one check kind (${CHECK_KINDS.join(', ')}), got none`
          : `expected exactly one check kind per check, got ${kinds.map((k) => k.key).join(' and ')} (write one check per kind: checks are ANDed, the parts of one check are not)`,
      )
      return undefined
    }
    const k = kinds[0] as {key: string; keyLine: number | undefined; value: Tree}
    const spec = this.checkSpec(join(path, k.key), k.key as CheckKind, k.value, k.keyLine)
    if (!spec) return undefined
    return {...spec, ...(displayName === undefined ? {} : {displayName}), ...(imageAllowlist ? {imageAllowlist} : {}), ...(at === undefined ? {} : {line: at})}
  }

  checkSpec(path: string, kind: CheckKind, t: Tree, line: number | undefined): CheckSpec | undefined {
    if (kind === 'alwaysDeny') {
      if (t.t === 'scalar' && t.value === true) return {kind}
      if (t.t === 'scalar' && t.value === false) {
        this.add(path, t.line ?? line, 'expected true ("The value of alwaysDeny can\'t be set to false. Instead, remove the check."), got false')
        return undefined
      }
      this.expect(path, t, 'true', line)
      return undefined
    }
    const m = this.message(path, t, `{...} (the ${kind} fields)`, line)
    if (!m) return undefined
    const get = (k: string) => m.entries.find((e) => e.key === k)
    const at = line ?? m.line
    switch (kind) {
      case 'trustedDirectoryCheck': {
        this.unknownFields(path, m, ['trustedDirPatterns'], 'TrustedDirectoryCheck')
        const e = get('trustedDirPatterns')
        const list = this.strings(`${path}.trustedDirPatterns`, e?.value, e?.keyLine ?? at, 'directory patterns')
        if (list.length === 0) {
          this.add(`${path}.trustedDirPatterns`, e?.keyLine ?? at, 'expected at least one directory pattern (the field is required), got none')
          return undefined
        }
        let ok = true
        list.forEach(({value, line: l}, i) => {
          const why = validateTrustedDirPattern(value)
          if (why !== undefined) {
            ok = false
            this.add(`${path}.trustedDirPatterns[${i}]`, l, `expected a directory pattern registry/path/to/directory (${why}), got ${JSON.stringify(value)}`)
          }
        })
        return ok ? {kind, trustedDirPatterns: list.map((x) => x.value)} : undefined
      }
      case 'imageFreshnessCheck': {
        this.unknownFields(path, m, ['maxUploadAgeDays'], 'ImageFreshnessCheck')
        const e = get('maxUploadAgeDays')
        let n: number | undefined
        if (e?.value.t === 'scalar' && typeof e.value.value === 'number') n = e.value.value
        else if (e?.value.t === 'scalar' && typeof e.value.value === 'string' && /^\d+$/.test(e.value.value)) {
          n = Number(e.value.value)
          this.notes.push(`${path}.maxUploadAgeDays: the string ${JSON.stringify(e.value.value)} read as the number ${n}, as gcloud does.`)
        }
        if (n === undefined || !Number.isInteger(n) || n <= 0 || n > 2147483647) {
          this.add(
            `${path}.maxUploadAgeDays`,
            e?.value.line ?? e?.keyLine ?? at,
            `expected a whole number of days greater than zero ("Must be greater than zero."), got ${e ? describe(e.value) : 'nothing (the field is required)'}`,
          )
          return undefined
        }
        return {kind, maxUploadAgeDays: n}
      }
      case 'simpleSigningAttestationCheck': {
        this.unknownFields(path, m, ['attestationAuthenticators', 'containerAnalysisAttestationProjects'], 'SimpleSigningAttestationCheck')
        const a = get('attestationAuthenticators')
        const items = this.list(`${path}.attestationAuthenticators`, a?.value, a?.keyLine, 'authenticators')
        if (items.length === 0)
          this.add(`${path}.attestationAuthenticators`, a?.keyLine ?? at, 'expected at least one authenticator (the field is required), got none')
        const authenticators: AttestationAuthenticator[] = []
        let ok = items.length > 0
        items.forEach((item, i) => {
          const p = `${path}.attestationAuthenticators[${i}]`
          const am = this.message(p, item, '{displayName: ..., pkixPublicKeySet: {pkixPublicKeys: [...]}}', item.line)
          if (!am) return void (ok = false)
          this.unknownFields(p, am, ['displayName', 'pkixPublicKeySet'], 'AttestationAuthenticator')
          const adn = am.entries.find((x) => x.key === 'displayName')
          const name = adn && !isNull(adn.value) ? this.string(`${p}.displayName`, adn.value, adn.keyLine) : undefined
          const ks = am.entries.find((x) => x.key === 'pkixPublicKeySet')
          const ksm = this.message(`${p}.pkixPublicKeySet`, ks?.value, '{pkixPublicKeys: [...]}', ks?.keyLine ?? am.line)
          if (!ksm) return void (ok = false)
          this.unknownFields(`${p}.pkixPublicKeySet`, ksm, ['pkixPublicKeys'], 'PkixPublicKeySet')
          const pk = ksm.entries.find((x) => x.key === 'pkixPublicKeys')
          const keys = this.list(`${p}.pkixPublicKeySet.pkixPublicKeys`, pk?.value, pk?.keyLine, 'PKIX public keys')
          if (keys.length === 0) {
            this.add(`${p}.pkixPublicKeySet.pkixPublicKeys`, pk?.keyLine ?? ksm.line, 'expected at least one PKIX public key (the field is required), got none')
            return void (ok = false)
          }
          const parsed: PkixPublicKey[] = []
          keys.forEach((kt, j) => {
            const key = this.pkixKey(`${p}.pkixPublicKeySet.pkixPublicKeys[${j}]`, kt, kt.line)
            if (key) parsed.push(key)
            else ok = false
          })
          authenticators.push({...(name === undefined ? {} : {displayName: name}), pkixPublicKeys: parsed})
        })
        const pe = get('containerAnalysisAttestationProjects')
        const projects = this.projects(`${path}.containerAnalysisAttestationProjects`, pe?.value, pe?.keyLine)
        return ok ? {kind, attestationAuthenticators: authenticators, containerAnalysisAttestationProjects: projects} : undefined
      }
      case 'sigstoreSignatureCheck': {
        this.unknownFields(path, m, ['sigstoreAuthorities'], 'SigstoreSignatureCheck')
        const a = get('sigstoreAuthorities')
        const items = this.list(`${path}.sigstoreAuthorities`, a?.value, a?.keyLine, 'authorities')
        if (items.length === 0) {
          this.add(`${path}.sigstoreAuthorities`, a?.keyLine ?? at, 'expected at least one authority (the field is required), got none')
          return undefined
        }
        let ok = true
        const authorities: SigstoreAuthority[] = []
        items.forEach((item, i) => {
          const p = `${path}.sigstoreAuthorities[${i}]`
          const am = this.message(p, item, '{displayName: ..., publicKeySet: {publicKeys: [{publicKeyPem: PEM}]}}', item.line)
          if (!am) return void (ok = false)
          this.unknownFields(p, am, ['displayName', 'publicKeySet'], 'SigstoreAuthority')
          const adn = am.entries.find((x) => x.key === 'displayName')
          const name = adn && !isNull(adn.value) ? this.string(`${p}.displayName`, adn.value, adn.keyLine) : undefined
          const ks = am.entries.find((x) => x.key === 'publicKeySet')
          const ksm = this.message(`${p}.publicKeySet`, ks?.value, '{publicKeys: [{publicKeyPem: PEM}]}', ks?.keyLine ?? am.line)
          if (!ksm) return void (ok = false)
          this.unknownFields(`${p}.publicKeySet`, ksm, ['publicKeys'], 'SigstorePublicKeySet')
          const pk = ksm.entries.find((x) => x.key === 'publicKeys')
          const keys = this.list(`${p}.publicKeySet.publicKeys`, pk?.value, pk?.keyLine, 'public keys')
          if (keys.length === 0) {
            this.add(`${p}.publicKeySet.publicKeys`, pk?.keyLine ?? ksm.line, 'expected at least one public key (the field is required), got none')
            return void (ok = false)
          }
          const pems: Array<{publicKeyPem: string}> = []
          keys.forEach((kt, j) => {
            const kp = `${p}.publicKeySet.publicKeys[${j}]`
            const km = this.message(kp, kt, '{publicKeyPem: PEM}', kt.line)
            if (!km) return void (ok = false)
            this.unknownFields(kp, km, ['publicKeyPem'], 'SigstorePublicKey')
            const pe = km.entries.find((x) => x.key === 'publicKeyPem')
            const pem = this.string(`${kp}.publicKeyPem`, pe?.value, pe?.keyLine ?? km.line)
            if (pem === undefined) return void (ok = false)
            try {
              parsePublicKey(pem)
              pems.push({publicKeyPem: pem})
            } catch (err) {
              ok = false
              this.add(
                `${kp}.publicKeyPem`,
                pe?.keyLine ?? km.line,
                `expected a PEM public key, got text that is not one (${err instanceof Error ? err.message : String(err)})`,
              )
            }
          })
          authorities.push({...(name === undefined ? {} : {displayName: name}), publicKeys: pems})
        })
        return ok ? {kind, sigstoreAuthorities: authorities} : undefined
      }
      case 'slsaCheck': {
        this.unknownFields(path, m, ['rules'], 'SlsaCheck')
        const r = get('rules')
        const items = this.list(`${path}.rules`, r?.value, r?.keyLine, 'verification rules')
        let ok = true
        const rules: SlsaRule[] = []
        items.forEach((item, i) => {
          const rule = this.slsaRule(`${path}.rules[${i}]`, item)
          if (rule) rules.push(rule)
          else ok = false
        })
        return ok ? {kind, rules} : undefined
      }
      case 'vulnerabilityCheck': {
        const fields = ['maximumFixableSeverity', 'maximumUnfixableSeverity', 'allowedCves', 'blockedCves', 'containerAnalysisVulnerabilityProjects']
        this.unknownFields(path, m, fields, 'VulnerabilityCheck')
        const fx = get('maximumFixableSeverity')
        const ux = get('maximumUnfixableSeverity')
        const fixable = this.enumValue(`${path}.maximumFixableSeverity`, fx?.value, fx?.keyLine ?? at, SEVERITIES, SEVERITY_NUMBERS)
        const unfixable = this.enumValue(`${path}.maximumUnfixableSeverity`, ux?.value, ux?.keyLine ?? at, SEVERITIES, SEVERITY_NUMBERS)
        const al = get('allowedCves')
        const bl = get('blockedCves')
        const allowed = this.strings(`${path}.allowedCves`, al?.value, al?.keyLine, 'CVE ids').map((x) => x.value)
        const blocked = this.strings(`${path}.blockedCves`, bl?.value, bl?.keyLine, 'CVE ids').map((x) => x.value)
        const pe = get('containerAnalysisVulnerabilityProjects')
        const projects = this.projects(`${path}.containerAnalysisVulnerabilityProjects`, pe?.value, pe?.keyLine)
        if (fixable === undefined || unfixable === undefined) return undefined
        return {
          kind,
          maximumFixableSeverity: fixable as MaximumAllowedSeverity,
          maximumUnfixableSeverity: unfixable as MaximumAllowedSeverity,
          allowedCves: allowed,
          blockedCves: blocked,
          containerAnalysisVulnerabilityProjects: projects,
        }
      }
    }
  }

  slsaRule(path: string, t: Tree): SlsaRule | undefined {
    const m = this.message(path, t, '{trustedBuilder: GOOGLE_CLOUD_BUILD, attestationSource: {...}, ...}', t.line)
    if (!m) return undefined
    const fields = ['trustedBuilder', 'attestationSource', 'configBasedBuildRequired', 'trustedSourceRepoPatterns', 'customConstraints']
    this.unknownFields(path, m, fields, 'VerificationRule')
    const get = (k: string) => m.entries.find((e) => e.key === k)
    const tb = get('trustedBuilder')
    // [INFERRED] GOOGLE_CLOUD_BUILD is the only value besides BUILDER_UNSPECIFIED ("Should never happen"), docs/platform-policy.md#policy-files.
    const builder = this.enumValue(
      `${path}.trustedBuilder`,
      tb?.value,
      tb?.keyLine ?? m.line,
      ['GOOGLE_CLOUD_BUILD'],
      BUILDER_NUMBERS,
      ' (the only trusted builder the SLSA check supports is Cloud Build)',
    )
    const as = get('attestationSource')
    let projects: string[] = []
    let ok = builder !== undefined
    if (as && !isNull(as.value)) {
      const am = this.message(`${path}.attestationSource`, as.value, '{containerAnalysisAttestationProjects: [projects/PROJECT_ID]}', as.keyLine)
      if (!am) ok = false
      else {
        this.unknownFields(`${path}.attestationSource`, am, ['containerAnalysisAttestationProjects'], 'AttestationSource')
        const pe = am.entries.find((e) => e.key === 'containerAnalysisAttestationProjects')
        projects = this.projects(`${path}.attestationSource.containerAnalysisAttestationProjects`, pe?.value, pe?.keyLine)
      }
    }
    const cb = get('configBasedBuildRequired')
    const configBased = this.bool(`${path}.configBasedBuildRequired`, cb?.value, cb?.keyLine) ?? false
    const rp = get('trustedSourceRepoPatterns')
    const repos = this.strings(`${path}.trustedSourceRepoPatterns`, rp?.value, rp?.keyLine, 'repository patterns')
    repos.forEach(({value, line}, i) => {
      const why = validateSourceRepoPattern(value)
      if (why !== undefined) {
        ok = false
        this.add(`${path}.trustedSourceRepoPatterns[${i}]`, line, `expected a repository URL pattern without scheme (${why}), got ${JSON.stringify(value)}`)
      }
    })
    const cc = get('customConstraints')
    const custom = cc && !isNull(cc.value) ? this.string(`${path}.customConstraints`, cc.value, cc.keyLine) : undefined
    if (!ok) return undefined
    return {
      trustedBuilder: 'GOOGLE_CLOUD_BUILD',
      attestationProjects: projects,
      configBasedBuildRequired: configBased,
      trustedSourceRepoPatterns: repos.map((r) => r.value),
      ...(custom === undefined || custom === '' ? {} : {customConstraints: custom}),
      ...(m.line === undefined ? {} : {line: m.line}),
    }
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`
}

function scopeLabel(s: Scope | undefined): string {
  if (s === undefined) return 'the default (unscoped) check set'
  return s.kind === 'serviceAccount' ? `service account ${s.value}` : `namespace ${s.namespace}`
}

function validate(root: Tree, source: string): {policy: PlatformPolicy | undefined; problems: Problem[]} {
  const c = new Checker()
  if (root.t !== 'map') {
    c.expect('policy', root, 'a mapping with the PlatformPolicy fields (gkePolicy, ...)')
    return {policy: undefined, problems: c.problems}
  }
  c.unknownFields('', root, POLICY_FIELDS, 'PlatformPolicy')
  const get = (k: string) => root.entries.find((e) => e.key === k)
  const out: Partial<PlatformPolicy> = {}
  const ne = get('name')
  if (ne && !isNull(ne.value)) {
    const name = c.string('name', ne.value, ne.keyLine)
    if (name !== undefined) {
      if (GKE_POLICY_NAME_RE.test(name)) out.name = name
      else
        c.add(
          'name',
          ne.value.line ?? ne.keyLine,
          `expected projects/PROJECT/platforms/gke/policies/POLICY_ID (a GKE platform policy), got ${JSON.stringify(name)}`,
        )
    }
  }
  for (const f of ['description', 'etag', 'updateTime'] as const) {
    const e = get(f)
    if (e && !isNull(e.value)) {
      const s = c.string(f, e.value, e.keyLine)
      if (s !== undefined) out[f] = s
    }
  }
  const cr = get('cloudRunPolicy')
  if (cr && !isNull(cr.value)) {
    c.add(
      'cloudRunPolicy',
      cr.keyLine,
      'expected a GKE platform policy (gkePolicy), got a Cloud Run platform policy: check-based evaluation covers GKE only (docs/platform-policy.md#assumptions-the-inferred-and-open-points)',
    )
  }
  const ge = get('gkePolicy')
  const checkSets: CheckSet[] = []
  let imageAllowlist: ImageAllowlist | undefined
  if (!ge || isNull(ge.value)) {
    if (!cr) c.add('gkePolicy', ge?.keyLine ?? root.line, `expected a GkePolicy (imageAllowlist, checkSets), got ${ge ? 'null' : 'nothing'}`)
  } else {
    const gm = c.message('gkePolicy', ge.value, '{imageAllowlist: {...}, checkSets: [...]}', ge.keyLine)
    if (gm) {
      c.unknownFields('gkePolicy', gm, GKE_FIELDS, 'GkePolicy')
      const al = gm.entries.find((e) => e.key === 'imageAllowlist')
      imageAllowlist = c.allowlist('gkePolicy.imageAllowlist', al?.value, al?.keyLine)
      const cs = gm.entries.find((e) => e.key === 'checkSets')
      const sets = c.list('gkePolicy.checkSets', cs?.value, cs?.keyLine, 'check sets')
      sets.forEach((item, i) => {
        const path = `gkePolicy.checkSets[${i}]`
        const m = c.message(path, item, '{displayName, scope, imageAllowlist, checks}', item.line)
        if (!m) return
        c.unknownFields(path, m, CHECK_SET_FIELDS, 'CheckSet')
        const gt = (k: string) => m.entries.find((e) => e.key === k)
        const dn = gt('displayName')
        const displayName = dn && !isNull(dn.value) ? c.string(`${path}.displayName`, dn.value, dn.keyLine) : undefined
        const sc = gt('scope')
        const scope = c.scope(`${path}.scope`, sc?.value, sc?.keyLine)
        const sal = gt('imageAllowlist')
        const setAllowlist = c.allowlist(`${path}.imageAllowlist`, sal?.value, sal?.keyLine)
        const ce = gt('checks')
        const checks: Check[] = []
        c.list(`${path}.checks`, ce?.value, ce?.keyLine, 'checks').forEach((ct, j) => {
          const check = c.check(`${path}.checks[${j}]`, ct, ct.line)
          if (check) checks.push(check)
        })
        if (scope === 'invalid') return
        checkSets.push({
          ...(displayName === undefined ? {} : {displayName}),
          ...(scope === undefined ? {} : {scope}),
          ...(setAllowlist ? {imageAllowlist: setAllowlist} : {}),
          checks,
          ...(m.line === undefined ? {} : {line: m.line}),
        })
      })
      if (checkSets.length === sets.length) orderProblems(c, checkSets)
    }
  }
  if (c.problems.length > 0) return {policy: undefined, problems: c.problems}
  return {policy: {...out, gkePolicy: {...(imageAllowlist ? {imageAllowlist} : {}), checkSets}, source, notes: c.notes}, problems: []}
}

/** Said by every ordering problem that leaves a check set unselectable (lint reports those as E_CHECK_SET_UNREACHABLE). */
export const UNREACHABLE = 'could never be selected'

/** The server-side ordering and scope rules (docs/platform-policy.md#policy-files). */
function orderProblems(c: Checker, sets: CheckSet[]): void {
  const path = (i: number) => `gkePolicy.checkSets[${i}]`
  const seen = new Map<string, number>()
  sets.forEach((s, i) => {
    const key = s.scope === undefined ? 'default' : s.scope.kind === 'serviceAccount' ? `sa:${s.scope.value}` : `ns:${s.scope.namespace}`
    const first = seen.get(key)
    if (first !== undefined) {
      c.add(
        `${path(i)}.scope`,
        s.line,
        `expected one check set per scope ("There can be only one check set per scope"), got ${scopeLabel(s.scope)} again (first at checkSets[${first}]): this one ${UNREACHABLE}`,
      )
    } else seen.set(key, i)
    if (s.scope === undefined && i !== sets.length - 1 && first === undefined) {
      c.add(
        path(i),
        s.line,
        `expected the default (unscoped) check set to be listed last ("There can be only one default check set, and it must be listed last"), got it at index ${i} of ${sets.length}: the check sets after it ${UNREACHABLE}`,
      )
    }
    if (s.scope?.kind === 'serviceAccount') {
      const ns = s.scope.namespace
      const earlier = sets.findIndex((o, j) => j < i && o.scope?.kind === 'namespace' && o.scope.namespace === ns)
      if (earlier >= 0) {
        c.add(
          `${path(i)}.scope`,
          s.line,
          `expected service account ${s.scope.value} before namespace ${ns} (checkSets[${earlier}]): check sets are listed in order of decreasing specificity, and the first that matches is evaluated, so this one ${UNREACHABLE}`,
        )
      }
    }
  })
  const last = sets[sets.length - 1]
  if (last !== undefined && last.scope !== undefined) {
    c.add(
      path(sets.length - 1),
      last.line,
      `expected the last check set to have no scope ("the last check_sets entry must always be a CheckSet with no scope set"), got ${scopeLabel(last.scope)}`,
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors and public API

const HINT =
  'fix the fields listed; the file format is what `gcloud beta container binauthz policy describe POLICY_ID --platform=gke --format=yaml` writes ' +
  '(https://cloud.google.com/binary-authorization/docs/cv-platform-policies)'

function finish(root: Tree, source: string): PlatformPolicy {
  const {policy, problems} = validate(root, source)
  if (!policy) throw problemsError('POLICY_INVALID', source, 'invalid GKE platform policy', problems, HINT)
  return policy
}

/** Parse a platform policy file (YAML or JSON). Throws POLICY_INVALID listing every problem, or INVALID_INPUT for bad syntax. */
export function parsePlatformPolicyText(text: string, file: string): PlatformPolicy {
  const tree = policyDocumentTree(text, file, {
    title: 'invalid GKE platform policy',
    empty: {
      message: 'the policy file is empty; expected a GKE platform policy with gkePolicy',
      hint: 'export it with `gcloud beta container binauthz policy describe POLICY_ID --platform=gke --format=yaml > policy.yaml`',
    },
    hint: HINT,
  })
  return finish(tree, file)
}

/** Validate a platform policy object from the REST API; problems carry no line numbers. */
export function parsePlatformPolicyObject(obj: unknown, source: string): PlatformPolicy {
  return finish(objectTree(obj), source)
}
