/** The terminal decisions: colour per stream and progress, from TTY, NO_COLOR, FORCE_COLOR, CI and --no-color. */
import {describe, expect, it} from '@jest/globals'
import {progressStatus, terminalSettings} from '../../../src/cli/terminal.js'

const tty = {stdoutIsTTY: true, stderrIsTTY: true, noColor: false}
const pipe = {stdoutIsTTY: false, stderrIsTTY: false, noColor: false}

describe('terminalSettings', () => {
  it.each([
    ['a terminal', tty, {}, {colorStdout: true, colorStderr: true, progress: true}],
    ['pipes', pipe, {}, {colorStdout: false, colorStderr: false, progress: false}],
    ['stdout piped, stderr a terminal', {...tty, stdoutIsTTY: false}, {}, {colorStdout: false, colorStderr: true, progress: true}],
    ['--no-color', {...tty, noColor: true}, {}, {colorStdout: false, colorStderr: false, progress: true}],
    ['--no-color beats FORCE_COLOR', {...tty, noColor: true}, {FORCE_COLOR: '1'}, {colorStdout: false, colorStderr: false, progress: true}],
    ['NO_COLOR=1', tty, {NO_COLOR: '1'}, {colorStdout: false, colorStderr: false, progress: true}],
    ['NO_COLOR empty is unset', tty, {NO_COLOR: ''}, {colorStdout: true, colorStderr: true, progress: true}],
    ['NO_COLOR beats FORCE_COLOR', tty, {NO_COLOR: '1', FORCE_COLOR: '1'}, {colorStdout: false, colorStderr: false, progress: true}],
    ['CI', tty, {CI: 'true'}, {colorStdout: false, colorStderr: false, progress: false}],
    ['CI=false is not CI', tty, {CI: 'false'}, {colorStdout: true, colorStderr: true, progress: true}],
    ['FORCE_COLOR in CI', tty, {CI: 'true', FORCE_COLOR: '1'}, {colorStdout: true, colorStderr: true, progress: false}],
    ['FORCE_COLOR into pipes (no progress)', pipe, {FORCE_COLOR: '1'}, {colorStdout: true, colorStderr: true, progress: false}],
    ['FORCE_COLOR=0', tty, {FORCE_COLOR: '0'}, {colorStdout: false, colorStderr: false, progress: true}],
    ['TERM=dumb', tty, {TERM: 'dumb'}, {colorStdout: false, colorStderr: false, progress: false}],
  ])('%s', (_name, streams, env, expected) => {
    expect(terminalSettings({...streams, env})).toEqual(expected)
  })
})

describe('progressStatus', () => {
  it('counts and rate, or the seconds waited', () => {
    expect(progressStatus(120, 1000, 1.41)).toBe('120/1000 (85/s)')
    expect(progressStatus(0, 1000, 0)).toBe('0/1000')
    expect(progressStatus(0, undefined, 3.7)).toBe('3s')
  })
})
