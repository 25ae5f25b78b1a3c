/**
 * One Jest run for the whole monorepo: unit tests beside the code, each service's integration tests in
 * services/<service>/test/, cross-service and end-to-end tests under test/. ts-jest transpiles each file
 * alone (isolatedModules in tsconfig); `pnpm typecheck` is the type check.
 * @type {import('jest').Config}
 */
// Services that tests start with no database URL use PGlite, the tests' `pglite` kind, in process and in
// the processes they spawn; test/launcher.test.ts sets `postgres` to run `pnpm start`'s embedded server.
process.env.GRIOT_EMBEDDED_DATABASE ??= 'pglite';
// The workspace packages' `griot-source` export condition points at their TypeScript sources (their default is
// the built dist/): Jest resolves with it below, and the processes tests spawn (`node --import tsx ...`) inherit it.
if (!/--conditions=griot-source/.test(process.env.NODE_OPTIONS ?? '')) {
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --conditions=griot-source`.trim();
}

module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['griot-source', 'node', 'node-addons'] },
  roots: ['<rootDir>/packages', '<rootDir>/services', '<rootDir>/test', '<rootDir>/migrations'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Shared test helpers have one import path everywhere, `@griot/test/support/<name>` (tsconfig.json `paths` for tsc).
  moduleNameMapper: { '^@griot/test/(.*)$': '<rootDir>/test/$1' },
  testTimeout: 60000,
  // PostgreSQL for the run (the machine's, or a private one from npm's binaries), and why suites were skipped.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  maxWorkers: 2,
};
