/** gcloud's active configuration, read as files (gcloud itself is never run). */
import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {activeConfigFile, gcloudDefaults, type GcloudDefaults} from '../../core/gcloud-config.js'

function readIfPresent(path: string): string | undefined {
  try {
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined
  } catch {
    // An unreadable gcloud directory is the same as none: these are defaults, never required.
    return undefined
  }
}

export function readGcloudDefaults(env: NodeJS.ProcessEnv = process.env): GcloudDefaults {
  const dir = env.CLOUDSDK_CONFIG || join(env.HOME ?? homedir(), '.config', 'gcloud')
  const file = activeConfigFile(env, readIfPresent(join(dir, 'active_config')))
  return gcloudDefaults(env, readIfPresent(join(dir, file)))
}
