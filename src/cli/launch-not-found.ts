/** oclif's command_not_found hook in the bundle (package.json `oclif.hooks`): the hook of dist/bundle/cli.cjs. */
import {cli} from './launch.js'

const hook = await cli().loadNotFound()
export default hook
