/**
 * The parts of @kubernetes/client-node that safe-deploy uses, and the one module that imports it at run time
 * (always through a dynamic `import('./client-node.js')`, so only the scan and the API applier load it).
 *
 * Why a module of its own: the published CLI bundles client-node (esbuild.config.mjs), and esbuild keeps only
 * what is named here. Loaded from node_modules, client-node is 1,092 ES modules (868 its own) and its import alone
 * costs about 0.8 CPU-s; bundled and cut down to these names it is one chunk that loads in about 0.2 CPU-s
 * (docs/architecture.md#start-up).
 */
export {AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch} from '@kubernetes/client-node'
