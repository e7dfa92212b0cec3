/**
 * Artifact Registry facts about a pinned image: whether the repository has immutable tags, and
 * the image's upload time and current tags (for freshness checks and reports).
 */
import {SafeDeployError} from '../../core/errors.js'
import {parseReference} from '../../core/reference/index.js'
import {arr, callOptions, closeGaxClient, grpcError, obj, openGaxClient, str, toDate, withRetries, type GaxClient, type GcpOptions} from './common.js'

export interface RepositoryFacts {
  /** projects/P/locations/L/repositories/R */
  repository: string
  /** dockerConfig.immutableTags */
  immutableTags: boolean
  /** projects/P/locations/L/repositories/R/dockerImages/<escaped package>@sha256:… */
  dockerImage: string
  uploadTime?: Date
  buildTime?: Date
  tags: string[]
  mediaType?: string
}

/** Where an image lives in Artifact Registry, or undefined for other registries. */
export interface ArtifactRegistryLocation {
  project: string
  location: string
  repository: string
  /** Package path inside the repository (may contain /). */
  packagePath: string
  digest: string
}

interface ArtifactRegistryLike extends GaxClient {
  getRepository(req: {name: string}, opts: ReturnType<typeof callOptions>): Promise<[unknown, ...unknown[]]>
  getDockerImage(req: {name: string}, opts: ReturnType<typeof callOptions>): Promise<[unknown, ...unknown[]]>
}

const AR_DOMAIN_RE = /^([a-z0-9-]+)-docker\.pkg\.dev$/

/** Parse `LOCATION-docker.pkg.dev/PROJECT/REPO/PATH@sha256:…`; undefined for non-AR images. */
export function artifactRegistryLocation(imageWithDigest: string): ArtifactRegistryLocation | undefined {
  const ref = parseReference(imageWithDigest)
  const m = AR_DOMAIN_RE.exec(ref.domain)
  if (!m?.[1]) return undefined
  const parts = ref.path.split('/')
  const [project, repository, ...rest] = parts
  if (project === undefined || repository === undefined || rest.length === 0) {
    throw new SafeDeployError(
      'INVALID_REFERENCE',
      `"${imageWithDigest}" is not an Artifact Registry image path: expected LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`,
    )
  }
  if (ref.digest === undefined) {
    throw new SafeDeployError('INVALID_REFERENCE', `expected an image by digest, got "${imageWithDigest}"`, {hint: 'pin it first: `safe-deploy pin`'})
  }
  return {project, location: m[1], repository, packagePath: rest.join('/'), digest: ref.digest}
}

export class ArtifactRegistryApi {
  private readonly opts: GcpOptions
  private client: Promise<ArtifactRegistryLike> | undefined

  constructor(opts: GcpOptions = {}) {
    this.opts = opts
  }

  /** Facts for an `*-docker.pkg.dev` image by digest; undefined for images elsewhere. */
  async repositoryFacts(imageWithDigest: string): Promise<RepositoryFacts | undefined> {
    const loc = artifactRegistryLocation(imageWithDigest)
    if (!loc) return undefined
    const repository = `projects/${loc.project}/locations/${loc.location}/repositories/${loc.repository}`
    // Slashes inside the package name are escaped in resource names.
    const dockerImage = `${repository}/dockerImages/${encodeURIComponent(loc.packagePath)}@${loc.digest}`
    const client = await this.getClient()
    let repo: unknown
    let image: unknown
    try {
      ;[repo] = await withRetries(this.opts, () => client.getRepository({name: repository}, callOptions(this.opts)))
    } catch (err) {
      throw grpcError(err, {
        action: `reading Artifact Registry repository ${repository}`,
        permission: 'artifactregistry.repositories.get (roles/artifactregistry.reader)',
        project: loc.project,
      })
    }
    try {
      ;[image] = await withRetries(this.opts, () => client.getDockerImage({name: dockerImage}, callOptions(this.opts)))
    } catch (err) {
      throw grpcError(err, {
        action: `reading Artifact Registry image ${dockerImage}`,
        permission: 'artifactregistry.dockerimages.get (roles/artifactregistry.reader)',
        project: loc.project,
        notFoundHint: 'the digest is not in this repository; re-run `safe-deploy pin`',
      })
    }
    const r = obj(repo) ?? {}
    const i = obj(image) ?? {}
    const uploadTime = toDate(i['uploadTime'])
    const buildTime = toDate(i['buildTime'])
    const mediaType = str(i['mediaType'])
    return {
      repository,
      immutableTags: obj(r['dockerConfig'])?.['immutableTags'] === true,
      dockerImage,
      ...(uploadTime === undefined ? {} : {uploadTime}),
      ...(buildTime === undefined ? {} : {buildTime}),
      tags: arr(i['tags']).filter((t): t is string => typeof t === 'string'),
      ...(mediaType === undefined ? {} : {mediaType}),
    }
  }

  async close(): Promise<void> {
    const opened = this.client
    this.client = undefined
    await closeGaxClient(opened)
  }

  private getClient(): Promise<ArtifactRegistryLike> {
    this.client ??= (async () => {
      const {ArtifactRegistryClient} = await import('@google-cloud/artifact-registry')
      return openGaxClient(
        (options) => new ArtifactRegistryClient(options as ConstructorParameters<typeof ArtifactRegistryClient>[0]) as unknown as ArtifactRegistryLike,
        this.opts,
        {action: 'connecting to Artifact Registry', permission: 'artifactregistry.dockerimages.get (roles/artifactregistry.reader)'},
      )
    })()
    return this.client
  }
}
