/**
 * safe-deploy's programmatic API: the pure core and the ports, without oclif.
 *   import {parseReference, SafeDeployError} from 'safe-deploy'
 */
export * from './core/errors.js'
export * from './core/reference/index.js'
