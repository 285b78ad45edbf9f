/**
 * Production runs the compiled output under plain Node, with no TypeScript loader
 * (docs/decisions/0004-node-24-compiled-output.md): `tsc -b` writes dist/, and the JSX of every .tsx file is
 * compiled for the hono/jsx runtime. `npm test` builds before Vitest runs, so dist/ is current here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const DIST = fileURLToPath(new URL('../dist/src/', import.meta.url));

describe('the compiled admin UI', () => {
  it('has a compiled module for every source file, JSX compiled for hono/jsx', () => {
    const sources = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tsx?$/.test(f));
    const tsx = sources.filter((f) => f.endsWith('.tsx'));
    expect(tsx.length).toBeGreaterThan(10);
    for (const f of sources) {
      const compiled = join(DIST, f.replace(/\.tsx?$/, '.js'));
      expect(existsSync(compiled), compiled).toBe(true);
    }
    const compiledTsx = tsx.map((f) => readFileSync(join(DIST, f.replace(/\.tsx$/, '.js')), 'utf8'));
    for (const [i, js] of compiledTsx.entries()) expect(js, tsx[i]).not.toMatch(/\bReact\./);
    expect(compiledTsx.filter((js) => /from ["']hono\/jsx\/jsx-runtime["']/.test(js)).length).toBeGreaterThan(
      10,
    );
  });

  it('renders the login page under plain Node with no loader, started from an unrelated directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'delegato-admin-dist-'));
    try {
      const script = join(dir, 'probe.mjs');
      writeFileSync(
        script,
        `import { randomBytes } from 'node:crypto';
const { adminApp } = await import(${JSON.stringify(join(DIST, 'index.js'))});
const app = adminApp({ directory: {}, region: 'x', sessionSecret: randomBytes(32) });
const res = await app.request('https://a.test/login');
console.log(res.status, (await res.text()).includes('<label for="username">Username</label>'));
`,
      );
      const out = execFileSync(process.execPath, [script], { cwd: dir, encoding: 'utf8' });
      expect(out.trim()).toBe('200 true');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
