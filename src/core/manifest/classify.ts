/**
 * Values that sit in image fields but are not image references yet: Helm/Go templates, envsubst
 * placeholders and ko:// import paths. Pinning them is impossible until they are rendered.
 */
import {SafeDeployError, formatLocation, type ErrorLocation} from '../errors.js'
import type {ImageSite, ImageValueClass} from './types.js'

const ENVSUBST_RE = /\$(?:\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)/

/** Is this image value a reference, or a template/ko path that must be rendered first? */
export function classifyImageValue(value: string): ImageValueClass {
  if (value.includes('{{') || value.includes('}}')) {
    return {kind: 'template', why: 'is a Helm template, not an image reference'}
  }
  const env = ENVSUBST_RE.exec(value)
  if (env) {
    return {kind: 'template', why: `contains the environment-variable placeholder ${env[0]}, not an image reference`}
  }
  if (value.startsWith('ko://')) {
    return {kind: 'ko', why: 'is a ko import path (ko://), not an image reference'}
  }
  return {kind: 'reference'}
}

/** The next step for an unpinnable value. */
function hintFor(value: string): string {
  if (value.startsWith('ko://')) return 'build and resolve it first: ko resolve -f FILE | safe-deploy pin -f -'
  if (value.includes('{{') || value.includes('}}')) return 'render it first: helm template ./chart | safe-deploy pin -f -'
  return 'substitute it first: envsubst < FILE | safe-deploy pin -f -'
}

/**
 * UNPINNABLE_VALUE for an image site: `deploy.yaml: document 2: spec.template.spec.containers[0].image
 * (line 14): "{{ .Values.image }}" is a Helm template, not an image reference`.
 */
export function unpinnableError(site: Pick<ImageSite, 'file' | 'document' | 'pathString' | 'line' | 'image'>, why: string, hint?: string): SafeDeployError {
  const location: ErrorLocation = {file: site.file, document: site.document, path: site.pathString, line: site.line}
  return new SafeDeployError('UNPINNABLE_VALUE', `${formatLocation(location)}${JSON.stringify(site.image)} ${why}`, {
    hint: hint ?? hintFor(site.image),
    location: {...location, image: site.image},
  })
}
