/** oclif's explicit command target in the bundle (package.json `oclif.commands`): the commands of dist/bundle/cli.cjs. */
import {cli} from './launch.js'

export const COMMANDS = await cli().loadCommands()
