/**
 * Credentials never reach output: Authorization headers, bearer/basic tokens, passwords in URLs,
 * JWTs, private keys and `"password": …` style fields are masked in every human, debug and JSON
 * error string that goes through here.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/(authorization\s*[:=]\s*)(bearer|basic)?\s*[^\s,"']+/gi, '$1$2 [REDACTED]'],
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 [REDACTED]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[REDACTED-JWT]'],
  [/\bya29\.[A-Za-z0-9._-]+/g, '[REDACTED-TOKEN]'],
  [/(\/\/[^/\s:@]+:)[^@\s/]+@/g, '$1[REDACTED]@'],
  [/("?(?:password|passwd|secret|token|access_token|refresh_token|identitytoken|auth|client_secret|private_key)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,}]+)/gi, '$1"[REDACTED]"'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '[REDACTED-PRIVATE-KEY]'],
]

export function redact(text: string): string {
  let out = text
  for (const [re, repl] of PATTERNS) out = out.replace(re, repl)
  return out
}
