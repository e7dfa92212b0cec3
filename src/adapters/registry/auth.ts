/** WWW-Authenticate parsing (RFC 7235 auth-params). Pure functions. */

export interface Challenge {
  scheme: 'bearer' | 'basic' | 'other'
  params: Record<string, string>
}

/** Parse `Bearer realm="…",service="…",scope="a b"`; several challenges in one header work too. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (header === undefined) return []
  const out: Challenge[] = []
  const h = header
  const n = h.length
  const tokenChar = /[A-Za-z0-9!#$%&'*+.^_`|~/-]/
  let i = 0
  let current: Challenge | undefined
  while (i < n) {
    while (i < n && /[\s,]/.test(h[i] as string)) i++
    if (i >= n) break
    const start = i
    while (i < n && tokenChar.test(h[i] as string)) i++
    const token = h.slice(start, i)
    if (token === '') {
      i++
      continue
    }
    let j = i
    while (j < n && h[j] === ' ') j++
    if (h[j] === '=' && current !== undefined) {
      i = j + 1
      while (i < n && h[i] === ' ') i++
      let value = ''
      if (h[i] === '"') {
        i++
        while (i < n && h[i] !== '"') {
          if (h[i] === '\\' && i + 1 < n) i++
          value += h[i]
          i++
        }
        i++
      } else {
        const s = i
        while (i < n && h[i] !== ',') i++
        value = h.slice(s, i).trim()
      }
      current.params[token.toLowerCase()] = value
    } else {
      const scheme = token.toLowerCase()
      current = {scheme: scheme === 'bearer' ? 'bearer' : scheme === 'basic' ? 'basic' : 'other', params: {}}
      out.push(current)
    }
  }
  return out
}
