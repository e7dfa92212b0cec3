// Print the reliability figures of the latest run (tmp/reliability/*.json, written by
// test/e2e/reliability and `npm run fuzz`) as the Markdown tables of docs/RELIABILITY.md.
import {existsSync, readFileSync} from 'node:fs'

const dir = new URL('../../tmp/reliability/', import.meta.url)
const load = (name) => (existsSync(new URL(name, dir)) ? JSON.parse(readFileSync(new URL(name, dir), 'utf8')) : undefined)
const esc = (v) => String(v).replace(/\|/g, '\\|').replace(/\n/g, ' ')
const table = (h, rows) => [`| ${h.join(' | ')} |`, `|${h.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
const out = []

const fm = load('fault-matrix.json')
if (fm) {
  out.push(
    `### Fault matrix (${fm.at})`,
    '',
    table(
      ['case', 'fault', 'command', 'exit', 'error code', 'outcome', 'manifest requests', 'ms', 'files byte-identical', 'temp files', 'kube writes'],
      fm.data.map((r) => [r.case, r.fault, r.command, r.exit, r.code, r.outcome, r.upstreamRequests, r.ms, r.filesUnchanged, r.tempFiles, r.kubeWrites]),
    ),
    '',
  )
}
const tp = load('tamper.json')
if (tp) out.push(`### Tamper matrix (${tp.at})`, '', table(['tamper case', 'expected', 'exit', 'verdict', 'reason named (from --json)'], tp.data), '')
const fz = ['reference', 'allowlist', 'manifest', 'policy'].map((s) => load(`fuzz-${s}.json`)).filter(Boolean)
if (fz.length) {
  const total = load('fuzz-total.json')
  const rows = fz.flatMap((f) => {
    const d = f.data ?? f
    return d.properties.map((p) => [d.suite ?? f.suite, p.property, p.runs.toLocaleString('en-US'), p.ms])
  })
  out.push(
    `### Fuzzing${total ? ` (${total.total.toLocaleString('en-US')} inputs in ${total.seconds} s, FUZZ_RUNS=${total.runsPerProperty})` : ''}`,
    '',
    table(['suite', 'property', 'inputs', 'ms'], rows),
    '',
  )
}
const hy = load('hostile-yaml.json')
if (hy) out.push(`### Hostile YAML (${hy.at})`, '', table(['input', 'size', 'exit', 'error code', 'message (first line)', 'time', 'peak RSS'], hy.data), '')
const se = load('secrets.json')
if (se)
  out.push(
    `### Secrets (${se.at})`,
    '',
    table(
      ['figure', 'value'],
      [
        ['CLI runs grepped', se.data.runs.length],
        ['files grepped', se.data.files],
        ['audit records', se.data.audit],
        ['secret values searched', se.data.secrets.length],
        ['bytes searched', se.data.bytes.toLocaleString('en-US')],
        ['leaks', se.data.leaks.length],
      ],
    ),
    '',
    table(
      ['command', 'exit'],
      se.data.runs.map((r) => [r.name, r.exit]),
    ),
    '',
  )
const cc = load('concurrency.json')
if (cc)
  out.push(
    `### Concurrency (${cc.at})`,
    '',
    table(['round', 'concurrent applies', 'exit 0', 'audit lines', 'lines that parse', 'runs with started+applied'], cc.data.apply),
    '',
    table(
      ['signal', 'sent at', 'phase seen', 'exit', 'files old', 'files new', 'temp files left'],
      cc.data.signals.map((r) => [r[0], r[1], r[2], r[3], r[4], r[5], r[6]]),
    ),
    '',
  )
process.stdout.write(out.join('\n'))
