/** What `pin` prints: the pinned YAML (stdout) and the one-line summary (stderr). Pure. */
import type {PinSummary} from '../app/pin.js'

/** Join several files' YAML for stdout, with document separators between files. */
export function joinYamlStreams(texts: string[]): string {
  return texts
    .map((t, i) => {
      const body = t.endsWith('\n') ? t : t + '\n'
      return i === 0 || /^---/.test(body) ? body : '---\n' + body
    })
    .join('')
}

export function renderPinSummary(s: PinSummary, o: {seconds: number; written: number; lockOutput?: string | undefined}): string {
  return (
    `pinned ${s.pinned} image reference(s) (${s.unique} unique) in ${s.files} file(s) in ${o.seconds.toFixed(2)}s; ` +
    `${s.alreadyPinned} already pinned${s.drift ? `, ${s.drift} DRIFTED` : ''}` +
    (s.unexamined ? `; ${s.unexamined} image-like value(s) NOT EXAMINED (left as written, see the warnings)` : '') +
    (o.written ? `; wrote ${o.written} file(s)` : '') +
    (o.lockOutput ? `; lock: ${o.lockOutput}` : '')
  )
}
