import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

export default defineConfig({
  test: {
    projects,
    // Real servers, real argon2id hashes and real clients on a 2-core machine: 5 s is too tight under load.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
