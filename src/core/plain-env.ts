/**
 * Run `fn` with process.env replaced by a plain-object copy. The `yaml` parser reads
 * process.env.LOG_TOKENS once per token, and the real process.env is a host object whose every read
 * goes to the C++ environment: ~20% of a large parse. Every YAML parse of safe-deploy runs under it
 * (manifests and their second look, policies, profiles, break-glass). Nothing else runs during `fn`
 * (synchronous), and the real object is put back after it.
 */
export function withPlainEnv<T>(fn: () => T): T {
  const env = process.env
  process.env = {...env}
  try {
    return fn()
  } finally {
    process.env = env
  }
}
