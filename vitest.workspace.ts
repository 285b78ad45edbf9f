/**
 * The test projects, one per package. `vitest.config.ts` imports this list as `test.projects`
 * (Vitest 4 no longer reads workspace files by itself).
 */
export default ['packages/*', 'appliance'];
