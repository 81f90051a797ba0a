import base from './jest.config.js';

/**
 * The fault suite (`npm run test:faults`): the built service as child processes, killed, starved of its database
 * and stormed, one case after the other. Each case starts the PostgreSQL it needs, so no global database.
 */
export default {
  ...base,
  testMatch: ['<rootDir>/test/faults/**/*.fault-spec.ts'],
  globalSetup: undefined,
  globalTeardown: undefined,
  maxWorkers: 1,
  testTimeout: 300_000,
};
