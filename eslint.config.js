import js from '@eslint/js'
import tseslint from 'typescript-eslint'

// Dependency direction (docs/architecture.md#dependency-rules): commands -> cli -> (core, adapters, render); adapters -> core;
// render -> core; core -> nothing outside core (except yaml and crypto libraries).
const noImport = (patterns, message) => ({
  'no-restricted-imports': ['error', {patterns: [{group: patterns, message}]}],
})

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
    files: ['src/core/**/*.ts'],
    rules: noImport(
      ['**/adapters/**', '**/cli/**', '**/commands/**', '**/render/**', '@oclif/*', '@google-cloud/*',
        '@kubernetes/*', '@inquirer/*', 'google-auth-library', 'node:fs', 'node:fs/*', 'node:child_process', 'node:http', 'node:https'],
      'core/ is pure: no I/O, no adapters, no CLI (docs/architecture.md#dependency-rules).',
    ),
  },
  {
    files: ['src/render/**/*.ts'],
    rules: noImport(['**/adapters/**', '**/cli/**', '**/commands/**', '@oclif/*', '@google-cloud/*', '@kubernetes/*'],
      'render/ is pure (plan) => string.'),
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: noImport(['**/cli/**', '**/commands/**', '**/render/**', '@oclif/*', '@inquirer/*'],
      'adapters/ may import core only.'),
  },
  {
    files: ['src/adapters/registry/**/*.ts', 'src/adapters/fs/**/*.ts'],
    rules: noImport(['**/cli/**', '**/commands/**', '**/render/**', '@oclif/*', '@inquirer/*', '@google-cloud/*', '@kubernetes/*'],
      '@google-cloud/* only in adapters/gcp, @kubernetes/* only in adapters/k8s.'),
  },
  {
    files: ['src/commands/**/*.ts'],
    rules: noImport(['**/adapters/**', '@google-cloud/*', '@kubernetes/*', '@inquirer/*'],
      'commands are thin shells: go through cli/ (composition root).'),
  },
  {
    files: ['src/index.ts'],
    rules: noImport(['**/cli/**', '**/commands/**', '@oclif/*'], 'the programmatic API has no oclif.'),
  },
  {
    files: ['bin/**/*.js', '*.config.js', 'test/**/*.mjs', 'scripts/**/*.mjs'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', Buffer: 'readonly'}},
  },
  {
    files: ['test/**/*.ts'],
    rules: {'@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off'},
  },
)
