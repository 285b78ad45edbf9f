import { defaultServerConditions } from 'vite';
import { configDefaults, defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

/**
 * Workspace packages export their compiled `dist/` by default (what the appliance runs) and their
 * sources under the `source` condition: tests run the sources as they are, with no build in between.
 */
const conditions = ['source', ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    projects,
    globalSetup: ['./vitest.global-setup.ts'],
    // tsc -b compiles each package's tests into dist/test as well: run the sources only.
    exclude: [...configDefaults.exclude, '**/dist/**'],
    // Real servers, real argon2id hashes and real clients on a 2-core machine: 5 s is too tight under load.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
