// ESM + ts-jest, as in actions/typescript-action: the @actions/* packages are ESM-only.
// Three projects, all run by `npm run jest`: the action's tests, the simulator's own tests beside it, and the
// benchmark's parsers. `npm run jest -- <path>` still picks single files; `--selectProjects simulator` one project.
const common = {
  clearMocks: true,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/harness/quiet-workflow-commands.js']
}

export default {
  projects: [
    { ...common, displayName: 'action', testMatch: ['<rootDir>/__tests__/**/*.test.ts'] },
    { ...common, displayName: 'simulator', testMatch: ['<rootDir>/test/sim/**/*.test.ts'] },
    { ...common, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.test.ts'] }
  ],
  // Global options: jest reads these from the top level only, not per project.
  // Two workers on the 2-core machines: the default (cores − 1) runs the suites one after another, and the end-to-end
  // suites spend much of their time waiting on their kubectl/istioctl children (6 min 56 s serial, 3 min 49 s so).
  maxWorkers: 2,
  testTimeout: 60000,
  verbose: false
}
