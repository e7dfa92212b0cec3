/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {'^(\\.{1,2}/.*)\\.js$': '$1'},
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {parser: {syntax: 'typescript'}, target: 'es2023'},
        module: {type: 'es6'},
        sourceMaps: 'inline',
      },
    ],
  },
  setupFilesAfterEnv: ['<rootDir>/test/support/matchers.ts'],
  testTimeout: 30000,
  // Jest's default is one worker fewer than the cores: one worker on these 2-core machines. Most suites spend their
  // time waiting on child processes (the CLI, kubectl) and local servers, so three workers run the whole suite in
  // about 354 s instead of about 663 s here; four were no faster (measured: docs/testing.md#suite-time).
  maxWorkers: 3,
  // Each test file leaves its ESM module graph behind in the worker (about 2 MB of heap a file with
  // --experimental-vm-modules), so a worker that ran 50 files sits near 350 MB. A worker over this
  // limit is replaced after its current file (docs/testing.md#suite-time).
  workerIdleMemoryLimit: '256MB',
}
