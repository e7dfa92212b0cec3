/** The real-world manifest corpus (copied from ../shared/corpus with its README: sources and licences). */
import {fileURLToPath} from 'node:url'

export const CORPUS = process.env.SAFE_DEPLOY_CORPUS ?? fileURLToPath(new URL('../fixtures/corpus', import.meta.url))
