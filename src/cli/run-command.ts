/**
 * What run deploy and run replace share after their flags: the terminal (progress and colour on
 * stderr), the -o output of a Cloud Run result. The use cases stay in src/app/run.ts.
 */
import {BaseCommand} from './base.js'
import {processTerminal, terminalProgress} from './terminal.js'
import type {RunIo} from './wiring.js'
import type {RunResult} from '../app/run.js'
import {renderRunResult} from '../render/text.js'
import {runNames} from '../render/output.js'

export abstract class RunCommand extends BaseCommand {
  /** The human output, debug log, progress and text styling that runSetup wires into the use case. */
  protected runIo(noColor: boolean): RunIo {
    const terminal = processTerminal(noColor)
    return {
      say: (m) => this.say(m),
      debugLog: this.debugLog,
      progress: terminalProgress(terminal.progress && !this.jsonEnabled()),
      text: {color: terminal.colorStderr, wide: this.output() === 'wide'},
    }
  }

  /** The last line (stderr), and with -o name the service and revision (stdout). */
  protected showRunResult(r: RunResult, noColor: boolean): void {
    this.say(renderRunResult(r, {color: processTerminal(noColor).colorStderr}))
    if (this.output() === 'name') this.out(runNames(r))
  }
}
