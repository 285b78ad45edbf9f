/**
 * Idempotent steps. Each step first looks at the system (or the render root) and acts only when it
 * differs from what it should be: a second run finds nothing to do. With `dryRun` every step only says
 * what it would change. Under a render root (`root`), files and directories go below it and nothing else
 * happens (no owners, no commands): the tree can be inspected, verified, or copied into an image.
 */
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RenderedDir, RenderedFile } from './render.js';

export interface StepContext {
  /** Render root: paths are written below it, and only files and directories are handled. */
  root: string | undefined;
  dryRun: boolean;
  /** One line per change (done or, with dryRun, to be done). */
  report(line: string): void;
  /** Sets owner and group of a path on the live system (zx: chown). */
  chown?(path: string, owner: string, group: string): Promise<void>;
  /** Owner and group names of a path on the live system (zx: stat -c). */
  ownerOf?(path: string): Promise<{ owner: string; group: string } | undefined>;
}

export interface StepOutcome {
  changed: boolean;
}

const at = (ctx: StepContext, path: string) => (ctx.root === undefined ? path : join(ctx.root, path));
const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

async function statOf(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function ensureOwner(ctx: StepContext, path: string, owner: string, group: string): Promise<boolean> {
  if (ctx.root !== undefined || !ctx.ownerOf || !ctx.chown) return false;
  const current = ctx.dryRun && !(await statOf(path)) ? undefined : await ctx.ownerOf(path);
  if (current?.owner === owner && current.group === group) return false;
  ctx.report(`${ctx.dryRun ? 'would chown' : 'chown'} ${owner}:${group} ${path}`);
  if (!ctx.dryRun) await ctx.chown(path, owner, group);
  return true;
}

export async function ensureDir(ctx: StepContext, dir: RenderedDir): Promise<StepOutcome> {
  const path = at(ctx, dir.path);
  const existing = await statOf(path);
  let changed = false;
  if (!existing) {
    ctx.report(`${ctx.dryRun ? 'would create' : 'create'} directory ${path} (${octal(dir.mode)})`);
    if (!ctx.dryRun) await mkdir(path, { recursive: true, mode: dir.mode });
    changed = true;
  }
  if (existing && (existing.mode & 0o7777) !== dir.mode) {
    ctx.report(`${ctx.dryRun ? 'would chmod' : 'chmod'} ${octal(dir.mode)} ${path}`);
    changed = true;
  }
  if (changed && !ctx.dryRun) await chmod(path, dir.mode);
  if (await ensureOwner(ctx, path, dir.owner, dir.group)) changed = true;
  return { changed };
}

const digest = (data: string | Buffer) => createHash('sha256').update(data).digest('hex').slice(0, 12);

export async function ensureFile(ctx: StepContext, file: RenderedFile): Promise<StepOutcome> {
  const path = at(ctx, file.path);
  const existing = await statOf(path);
  let changed = false;
  const current = existing ? await readFile(path) : undefined;
  if (current === undefined || !current.equals(Buffer.from(file.content))) {
    ctx.report(
      `${ctx.dryRun ? 'would write' : 'write'} ${path} (${octal(file.mode)}${
        current === undefined ? ', new' : `, was ${digest(current)} now ${digest(file.content)}`
      })`,
    );
    if (!ctx.dryRun) {
      await mkdir(dirname(path), { recursive: true });
      // Write beside it and rename: a reader (systemd, the appliance) sees the old file or the new one.
      const temp = `${path}.provision-new`;
      await writeFile(temp, file.content, { mode: file.mode });
      await chmod(temp, file.mode);
      await rename(temp, path);
    }
    changed = true;
  } else if (existing && (existing.mode & 0o7777) !== file.mode) {
    ctx.report(`${ctx.dryRun ? 'would chmod' : 'chmod'} ${octal(file.mode)} ${path}`);
    if (!ctx.dryRun) await chmod(path, file.mode);
    changed = true;
  }
  if (await ensureOwner(ctx, path, file.owner, file.group)) changed = true;
  return { changed };
}

/**
 * A step on the live system: `check` says whether it is needed (true: needed), `apply` does it. With
 * dryRun, only `check` runs. Never called under a render root.
 */
export async function ensure(
  ctx: StepContext,
  description: string,
  check: () => Promise<boolean>,
  apply: () => Promise<unknown>,
): Promise<StepOutcome> {
  if (!(await check())) return { changed: false };
  ctx.report(`${ctx.dryRun ? 'would ' : ''}${description}`);
  if (!ctx.dryRun) await apply();
  return { changed: true };
}
