/**
 * Secret hygiene: every credential the resolver learns is registered here, and every debug line
 * and error message passes through `redact` before it leaves the adapter.
 */
export class Secrets {
  private readonly known = new Set<string>()

  add(secret: string | undefined): void {
    if (secret === undefined || secret.length < 4) return
    this.known.add(secret)
    // Also the forms it travels in: base64 of user:secret is added by the caller via add(basic).
  }

  redact(text: string): string {
    let out = text
    for (const s of this.known) if (out.includes(s)) out = out.split(s).join('***')
    return out
      .replace(/(authorization\s*[:=]\s*"?)(basic|bearer)?\s*[^\s",}]+/gi, '$1$2 ***')
      .replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***')
      .replace(/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '***')
      .replace(/([?&](?:access_token|refresh_token|password|token)=)[^&\s]+/gi, '$1***')
  }
}
