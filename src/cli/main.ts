/** The CLI's entry in the bundle (bin/run.js → dist/bundle/main.js): oclif from the same bundle as the commands. */
import {execute} from '@oclif/core'

export async function main(dir: string): Promise<void> {
  await execute({dir})
}
