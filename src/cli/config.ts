/** Reads the config file (--config FILE, or ./.safe-deploy.yaml when present); parsing is in core/config.ts. */
import {dirname, isAbsolute, resolve as resolvePath} from 'node:path'
import {fileExists, readTextFile, requirePath} from '../adapters/fs/files.js'
import {DEFAULT_CONFIG_FILE, parseConfigText, type SafeDeployConfig} from '../core/config.js'
import {isPlatformPolicyName} from '../adapters/trust-sources.js'

export {selectProfile, type Profile, type SafeDeployConfig} from '../core/config.js'

/** Load --config FILE, or ./.safe-deploy.yaml when present, or an empty config. */
export function loadConfig(explicit: string | undefined, cwd = process.cwd()): SafeDeployConfig {
  const file = explicit ?? (fileExists(`${cwd}/${DEFAULT_CONFIG_FILE}`) ? `${cwd}/${DEFAULT_CONFIG_FILE}` : undefined)
  if (file === undefined) return {imageRules: [], profiles: {}}
  if (explicit !== undefined) requirePath({flag: '--config', path: explicit, kind: 'file', hint: `omit --config to read ./${DEFAULT_CONFIG_FILE} when present`})
  const text = readTextFile(file, 'config file', {code: 'CONFIG_INVALID', location: true})
  const cfg = parseConfigText(text, file)
  // Deprecated spellings (profiles.NAME.platform): on stderr, also under --json (stdout stays data).
  for (const w of cfg.warnings ?? []) process.stderr.write(`warning: ${w}\n`)
  // Paths in profiles are relative to the config file, not to the current directory.
  const base = dirname(resolvePath(file))
  for (const p of Object.values(cfg.profiles)) {
    for (const k of PATH_KEYS) {
      const v = p[k]
      // A platform policy may be a resource name (projects/P/platforms/gke/policies/NAME), not a path.
      if (typeof v === 'string' && v !== '' && !isAbsolute(v) && !(k === 'platformPolicy' && isPlatformPolicyName(v))) p[k] = resolvePath(base, v)
    }
  }
  return cfg
}

const PATH_KEYS = ['kubeconfig', 'policy', 'systemPolicy', 'attestors', 'attestations', 'auditLog', 'reportMd', 'reportJunit', 'platformPolicy'] as const
