/** The audit listing with a fake log and a fixed clock: the filters, malformed lines passed on, no log = empty. */
import {describe, expect, it} from '@jest/globals'
import {listAudit, parseSince, type AuditReader} from '../../../src/app/audit.js'

const NOW = new Date('2026-11-10T12:00:00Z')
const clock = {now: () => NOW}
const rec = (time: string, verdict: string, outcome: string) => ({time, verdict, outcome, command: 'apply'})
const RECORDS = [
  rec('2026-11-01T00:00:00Z', 'ALLOW', 'applied'),
  rec('2026-11-10T02:00:00Z', 'DENY', 'blocked'),
  rec('2026-11-10T11:30:00Z', 'ALLOW', 'started'),
  rec('2026-11-10T11:31:00Z', 'ALLOW', 'applied'),
]
const log = (records = RECORDS, problems = [{line: 3, message: 'not a JSON object'}]): AuditReader<(typeof RECORDS)[number]> => ({
  file: 'audit.jsonl',
  read: async () => ({records, problems}),
})

describe('listAudit', () => {
  it('no filter: every record, and the malformed lines', async () => {
    expect(await listAudit({}, {log: log(), clock})).toEqual({file: 'audit.jsonl', records: RECORDS, problems: [{line: 3, message: 'not a JSON object'}]})
  })
  it('--since as an age is counted back from the clock', async () => {
    expect((await listAudit({since: '1h'}, {log: log(), clock})).records).toEqual(RECORDS.slice(2))
    expect((await listAudit({since: '7d'}, {log: log(), clock})).records).toEqual(RECORDS.slice(1))
  })
  it('--since as an ISO time, combined with --verdict and --outcome', async () => {
    expect((await listAudit({since: '2026-11-10T00:00:00Z', verdict: 'ALLOW'}, {log: log(), clock})).records).toEqual(RECORDS.slice(2))
    expect((await listAudit({verdict: 'ALLOW', outcome: 'applied'}, {log: log(), clock})).records).toEqual([RECORDS[0], RECORDS[3]])
    expect((await listAudit({verdict: 'DENY', outcome: 'applied'}, {log: log(), clock})).records).toEqual([])
  })
  it('no log file: an empty listing of that file', async () => {
    expect(await listAudit({}, {log: {file: 'none.jsonl', read: async () => undefined}, clock})).toEqual({file: 'none.jsonl', records: [], problems: []})
  })
  it('no log file named with --audit-log: an input error saying it does not exist, not an empty listing', async () => {
    await expect(listAudit({requireLog: true}, {log: {file: 'nope.jsonl', read: async () => undefined}, clock})).toThrowWithCode(
      'INVALID_INPUT',
      /^--audit-log nope\.jsonl does not exist$/,
    )
    expect((await listAudit({requireLog: true}, {log: log(), clock})).records).toEqual(RECORDS)
  })
  it('a bad --since is a usage error before the log is read', async () => {
    let read = false
    await expect(
      listAudit(
        {since: 'yesterday'},
        {
          log: {
            file: 'a',
            read: async () => {
              read = true
              return undefined
            },
          },
          clock,
        },
      ),
    ).toThrowWithCode('USAGE', /--since expects/)
    expect(read).toBe(false)
  })
})

describe('parseSince', () => {
  it('ages in s/m/h/d/w, and ISO times', () => {
    expect(parseSince('30m', NOW).toISOString()).toBe('2026-11-10T11:30:00.000Z')
    expect(parseSince(' 2 w ', NOW).toISOString()).toBe('2026-10-27T12:00:00.000Z')
    expect(parseSince('2026-11-01T00:00:00Z', NOW).toISOString()).toBe('2026-11-01T00:00:00.000Z')
    expect(() => parseSince('3 days', NOW)).toThrowWithCode('USAGE')
  })
})
