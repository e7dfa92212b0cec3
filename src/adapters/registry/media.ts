/** Manifest media types, the Accept header, and platform matching. */

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const

/**
 * All four types, always (docs/image-references.md#resolving-tags-to-digests): with only the Docker v2 type, distribution answers a
 * manifest-list tag with the amd64 CHILD's digest; with only OCI types, Docker-typed tags are 404.
 */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ')

export const isIndexType = (mediaType: string): boolean => mediaType === MEDIA_TYPES.ociIndex || mediaType === MEDIA_TYPES.dockerList

const SHA256_RE = /^sha256:[a-f0-9]{64}$/
export const isSha256 = (d: unknown): d is string => typeof d === 'string' && SHA256_RE.test(d)

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

const ARCH_ALIASES: Readonly<Record<string, string>> = {x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm'}

/** Parse 'os/arch[/variant]'; undefined when malformed. Normalizes x86_64→amd64, aarch64→arm64, arm64/v8→arm64. */
export function parsePlatform(text: string): Platform | undefined {
  const parts = text.trim().toLowerCase().split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) return undefined
  const [os, arch, variant] = parts as [string, string, string | undefined]
  return normalizePlatform({os, architecture: arch, ...(variant === undefined ? {} : {variant})})
}

export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture
  const variant = architecture === 'arm64' && p.variant === 'v8' ? undefined : p.variant
  return {os: p.os, architecture, ...(variant === undefined || variant === '' ? {} : {variant})}
}

export const formatPlatform = (p: Platform): string => `${p.os}/${p.architecture}${p.variant === undefined ? '' : '/' + p.variant}`

/** Does `candidate` satisfy `wanted`? A wanted platform without a variant accepts any variant. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const c = normalizePlatform(candidate)
  if (c.os !== wanted.os || c.architecture !== wanted.architecture) return false
  return wanted.variant === undefined || wanted.variant === c.variant
}

export interface Descriptor {
  mediaType?: string
  digest: string
  size?: number
  platform?: Platform
}

/** Read a platform object from untrusted JSON. */
export function readPlatform(value: unknown): Platform | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v['os'] !== 'string' || typeof v['architecture'] !== 'string') return undefined
  const variant = typeof v['variant'] === 'string' && v['variant'] !== '' ? v['variant'] : undefined
  return {os: v['os'], architecture: v['architecture'], ...(variant === undefined ? {} : {variant})}
}
