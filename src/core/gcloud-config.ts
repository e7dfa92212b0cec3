/**
 * gcloud's own defaults, read the way gcloud resolves them, without running gcloud: a property's
 * environment variable (CLOUDSDK_<SECTION>_<NAME>) first, then the active configuration file
 * (`$CLOUDSDK_CONFIG/configurations/config_<name>`, an INI file; the name from
 * CLOUDSDK_ACTIVE_CONFIG_NAME, else `$CLOUDSDK_CONFIG/active_config`, else `default`).
 * See https://cloud.google.com/sdk/docs/configurations and https://cloud.google.com/sdk/docs/properties.
 */

export interface GcloudDefaults {
  project?: string
  region?: string
}

/** `[section]` / `key = value` lines; `#` and `;` comments. */
export function parseGcloudProperties(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {}
  let section: Record<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const head = /^\[([^\]]+)\]$/.exec(line)
    if (head) {
      section = out[head[1] as string] ??= {}
      continue
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line)
    if (kv && section) section[kv[1] as string] = kv[2] as string
  }
  return out
}

/** Which configuration file is active (a path relative to the gcloud config directory). */
export function activeConfigFile(env: Readonly<Record<string, string | undefined>>, activeConfig: string | undefined): string {
  const name = env.CLOUDSDK_ACTIVE_CONFIG_NAME || activeConfig?.trim() || 'default'
  return `configurations/config_${name}`
}

/** The project and Cloud Run region gcloud would use, from the environment and the active configuration's text. */
export function gcloudDefaults(env: Readonly<Record<string, string | undefined>>, configText: string | undefined): GcloudDefaults {
  const props = configText === undefined ? {} : parseGcloudProperties(configText)
  const project = env.CLOUDSDK_CORE_PROJECT || env.GOOGLE_CLOUD_PROJECT || props.core?.project || undefined
  const region = env.CLOUDSDK_RUN_REGION || props.run?.region || undefined
  return {...(project ? {project} : {}), ...(region ? {region} : {})}
}
