/**
 * What a benchmark must undo (temp dir, Dovecot, Postfix, the appliance), run in reverse order at the
 * end, on an error, or on Ctrl-C; and the entry point that guarantees it.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cleanups: Array<{ what: string; fn: () => Promise<void> | void }> = [];

async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const c = cleanups.pop();
    if (!c) break;
    try {
      await c.fn();
    } catch (err) {
      console.error(`cleanup (${c.what}) failed: ${(err as Error).message}`);
    }
  }
}

/** Registers a cleanup; the returned function runs it now (once) and unregisters it. */
export function deferCleanup(what: string, fn: () => Promise<void> | void): () => Promise<void> {
  const entry = { what, fn };
  cleanups.push(entry);
  return async () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) {
      cleanups.splice(i, 1);
      await fn();
    }
  };
}

/**
 * A fresh temp dir `<tmp>/<prefix>XXXXXX`, mode 0755 (Dovecot's and Postfix's unprivileged processes must
 * reach their Maildir and queue below it), removed at the end unless `keep` (then `log`ged).
 */
export function benchRoot(prefix: string, keep: boolean | undefined, log: (line: string) => void): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755);
  deferCleanup('temp dir', () => {
    if (keep) log(`kept ${root}`);
    else rmSync(root, { recursive: true, force: true });
  });
  return root;
}

/**
 * Runs a benchmark's `main` (its exit code), then every cleanup, then exits. SIGINT/SIGTERM clean up and
 * exit 130 (`log`ged when given); a throw is printed as `[bench:<name>] failed:` and exits 1.
 */
export async function runBench(
  name: string,
  main: () => Promise<number>,
  log?: (line: string) => void,
): Promise<never> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log?.(`${signal}: cleaning up`);
      void cleanupAll().finally(() => process.exit(130));
    });
  }
  let code = 1;
  try {
    code = await main();
  } catch (err) {
    console.error(`[bench:${name}] failed: ${(err as Error).stack ?? err}`);
  } finally {
    await cleanupAll();
  }
  process.exit(code);
}
