/**
 * Production runs the sources through tsx (docs/decisions/0001), which reads no tsconfig of this package:
 * every .tsx file carries its JSX pragmas, and the app renders under tsx from an unrelated directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** The repository root: its tsconfig.json has no JSX settings, like wherever the appliance runs. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('running under tsx', () => {
  it('every .tsx file declares the hono/jsx runtime', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tsx'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const head = readFileSync(join(SRC, f), 'utf8').slice(0, 200);
      expect(head, f).toContain('@jsxRuntime automatic');
      expect(head, f).toContain('@jsxImportSource hono/jsx');
    }
  });

  it('renders the login page under tsx, started from the repository root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'delegato-admin-tsx-'));
    try {
      const script = join(dir, 'probe.mts');
      writeFileSync(
        script,
        `import { randomBytes } from 'node:crypto';
const { adminApp } = await import(${JSON.stringify(join(SRC, 'index.ts'))});
const app = adminApp({ directory: {}, region: 'x', sessionSecret: randomBytes(32) });
const res = await app.request('https://a.test/login');
console.log(res.status, (await res.text()).includes('<label for="username">Username</label>'));
`,
      );
      const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(out.trim()).toBe('200 true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
