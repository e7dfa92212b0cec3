/**
 * The terminal decisions, made once per command: colour (per stream) and progress. Renderers receive
 * the answer (`color: boolean`); use cases receive a Progress port (a no-op when nobody watches).
 */
import {ux} from '@oclif/core'
import type {Progress} from '../core/ports.js'

export interface TerminalInput {
  env: Readonly<Record<string, string | undefined>>
  stdoutIsTTY: boolean
  stderrIsTTY: boolean
  /** --no-color */
  noColor: boolean
}

export interface TerminalSettings {
  /** Colour in what goes to stdout (the pre-flight text). */
  colorStdout: boolean
  /** Colour in what goes to stderr. */
  colorStderr: boolean
  /** Progress on stderr. */
  progress: boolean
}

/**
 * --no-color, then NO_COLOR (set and not empty, https://no-color.org), then FORCE_COLOR (0/false: off;
 * anything else: on, even in CI or into a pipe), then CI (off), then whether the stream is a terminal
 * (and TERM is not dumb). Progress needs stderr to be a terminal, CI unset and TERM not dumb; colour
 * settings do not change it.
 */
export function terminalSettings(t: TerminalInput): TerminalSettings {
  const {env} = t
  const dumb = env.TERM === 'dumb'
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI !== 'false'
  const color = (isTTY: boolean): boolean => {
    if (t.noColor) return false
    if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
    if (env.FORCE_COLOR !== undefined) return !['0', 'false'].includes(env.FORCE_COLOR)
    if (ci) return false
    return isTTY && !dumb
  }
  return {colorStdout: color(t.stdoutIsTTY), colorStderr: color(t.stderrIsTTY), progress: t.stderrIsTTY && !ci && !dumb}
}

/** The settings of this process. */
export function processTerminal(noColor: boolean): TerminalSettings {
  return terminalSettings({env: process.env, stdoutIsTTY: process.stdout.isTTY === true, stderrIsTTY: process.stderr.isTTY === true, noColor})
}

export const NO_PROGRESS: Progress = {start: () => undefined, tick: () => undefined, done: () => undefined}

/** What a progress line shows after the label: `120/1000 (85/s)`, or the seconds waited so far. */
export function progressStatus(count: number, total: number | undefined, seconds: number): string {
  if (total === undefined) return `${Math.floor(seconds)}s`
  const rate = seconds > 0 && count > 0 ? ` (${Math.round(count / seconds)}/s)` : ''
  return `${count}/${total}${rate}`
}

/**
 * Progress drawn on stderr by oclif's spinner (`ux.action`): a step shows only once it has lasted
 * `delayMs` (a fast step prints nothing), is redrawn with its counts and rate, and leaves one line
 * saying how it ended. A no-op unless `enabled` (a terminal, not CI).
 */
export function terminalProgress(enabled: boolean, opts: {delayMs?: number; now?: () => number} = {}): Progress {
  if (!enabled) return NO_PROGRESS
  const delayMs = opts.delayMs ?? 400
  const now = opts.now ?? Date.now
  let label = ''
  let total: number | undefined
  let count = 0
  let started = 0
  let shown = false
  let timer: NodeJS.Timeout | undefined
  const status = (): string => progressStatus(count, total, (now() - started) / 1000)
  const stop = (): void => {
    if (timer) clearInterval(timer)
    timer = undefined
    if (shown) {
      const secs = ((now() - started) / 1000).toFixed(1)
      ux.action.stop(total === undefined ? `done in ${secs}s` : `${count}/${total} in ${secs}s`)
    }
    shown = false
  }
  return {
    start(l, t) {
      stop()
      label = l
      total = t
      count = 0
      started = now()
      // Checked every 200 ms: shown after delayMs, then the status is refreshed (oclif redraws every 100 ms).
      timer = setInterval(() => {
        if (!shown && now() - started >= delayMs) {
          shown = true
          ux.action.start(label, status())
        } else if (shown) ux.action.status = status()
      }, 200)
      timer.unref()
    },
    tick() {
      count++
    },
    done: stop,
  }
}
