/**
 * esbuild's metafile of the bundled CLI (dist/bundle/meta.json, written by esbuild.config.mjs): what each output
 * file imports and which input files it holds. Read by test/e2e/cli/bundle.test.ts and the start-up benchmark.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

export interface BundleMeta {
  /** By output file, relative to the package root (`dist/bundle/…`). */
  outputs: Record<string, {imports: Array<{path: string; kind: string; external?: boolean}>; inputs: Record<string, unknown>}>
}

export const bundleMetaFile = (root: string): string => join(root, 'dist/bundle/meta.json')

export const readBundleMeta = (root: string): BundleMeta => JSON.parse(readFileSync(bundleMetaFile(root), 'utf8')) as BundleMeta

/**
 * The package a path or URL under node_modules belongs to ("node_modules/@kubernetes/client-node/dist/config.js" →
 * "@kubernetes/client-node"): a bundled input file, or a module Node loaded.
 */
export const packageOf = (path: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1]

/** The output JavaScript files that hold code of the package `pkg`. */
export function chunksHolding(meta: BundleMeta, pkg: string): string[] {
  return Object.entries(meta.outputs)
    .filter(([file, o]) => /\.c?js$/.test(file) && Object.keys(o.inputs).some((i) => packageOf(i) === pkg))
    .map(([file]) => file)
}
