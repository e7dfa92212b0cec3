import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Dependency direction (docs/architecture.md#dependency-rules): commands -> (cli, app, render, core); cli -> (app, core, adapters,
// render); app -> (core, render); adapters -> core; render -> core; core -> nothing outside core (except yaml and crypto libraries). Only adapters/ touch the file system.
//
// Each layer's rule is a list of {group, message}: no-restricted-imports checks static imports and `export … from`
// with it, and no-restricted-syntax checks dynamic `import('…')` with the same list turned into regular expressions.

/**
 * A no-restricted-imports (gitignore-style) pattern as a regular expression over the import's source: `**\/` at the
 * start matches any leading path, `*` one path segment, a leading `/` anchors (as every pattern here is), and
 * what is below a matched path is matched too.
 */
function patternToRegex(pattern) {
  const anywhere = pattern.startsWith('**/')
  const body = pattern.replace(/^\*\*\/|^\//, '').replace(/\/\*\*$/, '')
  const re = body
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]*')
  // esquery reads a regex literal up to the next "/": write "/" as \x2F.
  return `^${anywhere ? '(?:.*/)?' : ''}${re}(?:/.*)?$`.replaceAll('/', '\\x2F')
}

/**
 * Every YAML read goes through src/core/yaml-read.ts (nesting bounded before yaml's composer recurses, docs/RELIABILITY.md):
 * yaml's own parse functions are refused everywhere else in src/.
 */
const YAML_PARSE = {
  name: 'yaml',
  importNames: ['parse', 'parseDocument', 'parseAllDocuments', 'Composer'],
  message: 'read YAML through src/core/yaml-read.ts: it bounds the nesting before composing.',
}

const layer = (...groups) => layerWith([YAML_PARSE], groups)

function layerWith(paths, groups) {
  return {
    'no-restricted-imports': ['error', {paths, patterns: groups.map(({group, message}) => ({group, message}))}],
    // `P/*` is left out when `P` is in the group: P's expression already matches below it (one report per import).
    'no-restricted-syntax': [
      'error',
      ...groups.flatMap(({group, message}) =>
        group
          .filter((pattern) => !(pattern.endsWith('/*') && group.includes(pattern.slice(0, -2))))
          .map((pattern) => ({
            selector: `ImportExpression[source.value=/${patternToRegex(pattern)}/]`,
            message: `dynamic import('${pattern.replace(/^\//, '')}'): ${message}`,
          })),
      ),
    ],
  }
}

// '/fs' (anchored): a bare 'fs' would also match the path segment in '../adapters/fs/files.js'.
const NO_FS = {group: ['node:fs', 'node:fs/*', '/fs', '/fs/*'], message: 'file I/O lives in src/adapters (e.g. adapters/fs/files.ts).'}

const CORE_PURE = {
  group: [
    '**/adapters/**',
    '**/cli/**',
    '**/commands/**',
    '**/render/**',
    '@oclif/*',
    '@google-cloud/*',
    '@kubernetes/*',
    '@inquirer/*',
    'google-auth-library',
    'node:fs',
    'node:fs/*',
    '/fs',
    '/fs/*',
    'node:child_process',
    'node:http',
    'node:https',
  ],
  message: 'core/ is pure: no I/O, no adapters, no CLI (docs/architecture.md#dependency-rules).',
}

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'oclif.manifest.json', 'coverage/**', 'tmp/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    // Type-checked rules on the sources (promises that are dropped, awaited non-promises, promises where a
    // plain value is expected).
    files: ['src/**/*.ts'],
    languageOptions: {parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname}},
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The rules every file of src/ has; the layers below add theirs (a later entry replaces a rule's options).
    files: ['src/**/*.ts'],
    rules: layer(),
  },
  {
    files: ['src/core/**/*.ts'],
    rules: layer(CORE_PURE),
  },
  {
    files: ['src/core/yaml-read.ts'],
    rules: layerWith([], [CORE_PURE]),
  },
  {
    files: ['src/render/**/*.ts'],
    rules: layer(
      {
        group: ['**/adapters/**', '**/cli/**', '**/commands/**', '@oclif/*', '@google-cloud/*', '@kubernetes/*'],
        message: 'render/ is pure (pre-flight result) => string.',
      },
      NO_FS,
    ),
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: layer({group: ['**/cli/**', '**/commands/**', '**/render/**', '@oclif/*', '@inquirer/*'], message: 'adapters/ may import core only.'}),
  },
  {
    files: ['src/adapters/registry/**/*.ts', 'src/adapters/fs/**/*.ts'],
    rules: layer({
      group: ['**/cli/**', '**/commands/**', '**/render/**', '@oclif/*', '@inquirer/*', '@google-cloud/*', '@kubernetes/*'],
      message: '@google-cloud/* only in adapters/gcp, @kubernetes/* only in adapters/k8s.',
    }),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: layer(NO_FS),
  },
  {
    // Use cases receive the outside world as ports from cli/wiring.ts; they never build an adapter.
    files: ['src/app/**/*.ts'],
    rules: layer(
      {
        group: [
          '**/adapters/**',
          '**/cli/**',
          '**/commands/**',
          '@oclif/*',
          '@google-cloud/*',
          '@kubernetes/*',
          '@inquirer/*',
          'google-auth-library',
          'node:child_process',
          'node:http',
          'node:https',
        ],
        message: 'app/ is use cases over ports: adapters come in from cli/wiring.ts (docs/architecture.md#dependency-rules).',
      },
      NO_FS,
    ),
  },
  {
    files: ['src/commands/**/*.ts'],
    rules: layer(
      {group: ['**/adapters/**', '@google-cloud/*', '@kubernetes/*', '@inquirer/*'], message: 'commands are thin shells: go through cli/ (composition root).'},
      NO_FS,
    ),
  },
  {
    files: ['src/index.ts'],
    rules: layer({group: ['**/cli/**', '**/commands/**', '@oclif/*'], message: 'the programmatic API has no oclif.'}, NO_FS),
  },
  {
    // CommonJS (bin/package.json): what Node loads before a command runs (docs/architecture.md#start-up).
    files: ['bin/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {process: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly'},
    },
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    files: ['*.config.js', '*.config.mjs', 'test/**/*.mjs'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', Buffer: 'readonly'}},
  },
  {
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off'},
  },
)
