/**
 * The one redactor. Every string that leaves the program — human and `--json` errors, `--debug`
 * lines, kubectl's stderr, Google API errors, registry diagnostics, audit records, reports — goes
 * through `redact` first, so a credential is masked the same way wherever it would have surfaced,
 * with one placeholder: [REDACTED].
 *
 * Two kinds of masking: patterns for anything shaped like a credential (Authorization values,
 * bearer/basic tokens, JWTs, Google OAuth tokens, passwords in URLs, credential fields in JSON,
 * YAML, `key=value` and query strings, `--token` arguments, PEM private keys), and the exact
 * values the adapters learn at run time (docker config auths, credential helper output, registry
 * tokens), which may have no recognisable shape at all.
 *
 * Pure: string → string, no I/O (core/ rule).
 */

export const REDACTED = '[REDACTED]'

/** Field names whose value is a credential (compared case-insensitively). */
const CREDENTIAL_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'identitytoken',
  'auth',
  'client_secret',
  'private_key',
  'client-key-data',
  'client-certificate-data',
  'id-token',
  'refresh-token',
  'access-token',
]

/** token68 (RFC 7235) characters: what a bearer/basic credential is made of. */
const TOKEN68 = '[A-Za-z0-9._~+/=-]'

type Replacer = (match: string, ...groups: string[]) => string

/** Applied in order, in passes (see Redactor.redact). */
const PATTERNS: ReadonlyArray<[RegExp, Replacer]> = [
  // First: a PEM (or PGP armored) private key spans lines, and the field pattern would cut it in
  // two. An unterminated block (a message cut short) is masked to the end.
  [/-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g, () => REDACTED],
  // `Authorization: Bearer x`, `"authorization":"Basic x"`, `authorization=x`; the scheme is kept.
  // Not `binaryAuthorization:` (a Cloud Run field), hence the boundary on the left.
  [
    /(?<![A-Za-z0-9_])(authorization["']?[ \t]*[:=][ \t]*["']?)(?:(bearer|basic)[ \t]+)?[^\s"',;)}]+/gi,
    (_m, prefix, scheme) => `${prefix}${scheme === undefined ? '' : scheme + ' '}${REDACTED}`,
  ],
  // A credential after its scheme anywhere in text. Words stay ("Bearer challenge", "Basic
  // Authentication" are prose; real tokens mix cases, digits or punctuation), and so do the
  // auth-params of a challenge (`Bearer realm="…"`). The exceptions are lookaheads, not a check in
  // the replacer, so a word after one scheme never hides a token after the next.
  [
    new RegExp(`\\b([Bb][Ee][Aa][Rr][Ee][Rr]|[Bb][Aa][Ss][Ii][Cc])([ \\t]+)` + `(?![A-Z]?[a-z]+(?!${TOKEN68}))(?!${TOKEN68}+")${TOKEN68}{6,}`, 'g'),
    (_m, scheme, space) => `${scheme}${space}${REDACTED}`,
  ],
  // JWTs (registry tokens, Google ID tokens): header.payload.signature, header starting `{"`.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, () => REDACTED],
  // Google OAuth2 access tokens.
  [/\bya29\.[A-Za-z0-9._-]+/g, () => REDACTED],
  // Google client errors name OAuth fields without a separator (`refresh_token 1//0g…`); only a
  // value with a digit or punctuation counts, so "refresh_token grant" stays prose.
  [/\b((?:access_token|refresh_token|id_token)[ \t]+)(?=[A-Za-z0-9._~+/-]*[0-9._~+/-])[A-Za-z0-9._~+/-]{8,}/gi, (_m, prefix) => `${prefix}${REDACTED}`],
  // https://user:password@host
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, (_m, prefix) => `${prefix}${REDACTED}@`],
  // kubectl --token X / --token=X (and the like for --password).
  [/(--(?:token|password)(?:=|[ \t]+))(?!\[REDACTED\])\S+/g, (_m, prefix) => `${prefix}${REDACTED}`],
  // Credential fields: JSON ("token": "x"), escaped JSON inside a string (\"token\":\"x\"), YAML
  // (token: x), key=value and query strings (?access_token=x&…). The quoting of the value is kept.
  // A value that is itself `Bearer x` is left to the patterns above (they keep the scheme), and a
  // nested object or list (`secret: {…}`, YAML `secret:` + newline) is not a value.
  [
    new RegExp(
      `(?<![A-Za-z0-9_])((?:${CREDENTIAL_KEYS.join('|')})(?:\\\\?["'])?[ \\t]*[:=][ \\t]*)` +
        `(?!(?:bearer|basic)[ \\t])` +
        `(\\\\"[^"\\\\]*\\\\"|"(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s"',;&{}\\[\\]][^\\s"',;&}\\]]*)`,
      'gi',
    ),
    (_m, prefix, value) => {
      const quote = value.startsWith('\\"') ? '\\"' : value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : ''
      return `${prefix}${quote}${REDACTED}${quote}`
    },
  ],
]

/** Passes stop at the first that changes nothing (the second, in practice); this only bounds pathological input. */
const MAX_PASSES = 8

/** Shorter learned values are not masked: they would hit ordinary words (and nobody's secret is that short). */
const MIN_SECRET_LENGTH = 4

export class Redactor {
  /** Learned secrets, longest first so that a secret containing another is masked whole. */
  private known: string[] = []

  /** Register a credential learned at run time; every later `redact` masks it wherever it appears. */
  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH || this.known.includes(secret)) return
    // A value inside the placeholder itself ("REDACTED", "ACTED]") would make redaction re-apply forever.
    if (REDACTED.includes(secret)) return
    this.known = [...this.known, secret].sort((a, b) => b.length - a.length)
  }

  /**
   * Register a username/password pair in every form a registry client sends it: the password, and
   * base64 `user:password` (the Basic credential and a docker config `auth`).
   */
  addBasic(username: string, password: string): void {
    this.add(password)
    this.add(Buffer.from(`${username}:${password}`, 'utf8').toString('base64'))
  }

  /**
   * The text with every learned secret and every credential-shaped value replaced by [REDACTED].
   * Masking one value can expose the shape of another (`basic --password=x` reads as a Basic
   * credential once x is masked), so the passes repeat until nothing changes: redact(redact(x))
   * is redact(x), and text masked by an adapter passes through the CLI unchanged.
   */
  redact(text: string): string {
    let out = text
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const next = this.pass(out)
      if (next === out) break
      out = next
    }
    return out
  }

  private pass(text: string): string {
    let out = text
    if (this.known.length > 0) {
      // Placeholders already present are kept apart, so a learned value can never match across one.
      out = out
        .split(REDACTED)
        .map((piece) => {
          let p = piece
          for (const s of this.known) if (p.includes(s)) p = p.split(s).join(REDACTED)
          return p
        })
        .join(REDACTED)
    }
    for (const [re, replace] of PATTERNS) out = out.replace(re, replace as (substring: string, ...args: unknown[]) => string)
    return out
  }

  /** A copy of a JSON-like value with every string in it redacted (object keys are left as they are). */
  redactValue<T>(value: T): T {
    return this.deep(value) as T
  }

  private deep(value: unknown): unknown {
    if (typeof value === 'string') return this.redact(value)
    if (Array.isArray(value)) return value.map((v) => this.deep(v))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.deep(v)]))
    }
    return value
  }
}

/**
 * The process-wide redactor: the registry client registers what it learns here, and every
 * output path masks with it, so a secret learned in one adapter is masked in all output.
 */
export const redactor = new Redactor()

/** `redactor.redact`, for call sites that only mask text. */
export function redact(text: string): string {
  return redactor.redact(text)
}

/** `redactor.redactValue`: every string in a JSON-like value (error JSON, audit records). */
export function redactValue<T>(value: T): T {
  return redactor.redactValue(value)
}
