/**
 * Shared by the CLI tests that work on a data dir without a running appliance (mailbox-bulk-cli,
 * bulk-import-cli): the real `delegato` command in a child process on that data dir, and the directory
 * opened on it for setting up and checking.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CommandResult } from '../src/cli/commands.js';
import { loadConfig } from '../src/config/load.js';
import { openDirectory } from '../src/open-directory.js';

const BIN = fileURLToPath(new URL('../bin/delegato.mjs', import.meta.url));

/** Runs `delegato <args>` in `cwd` with DELEGATO_DATA_DIR=`dataDir` (killed after 60 s). */
export function runCliOn(cwd: string, args: string[], dataDir: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, DELEGATO_DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end('');
  });
}

/** The directory of a data dir, as `withDirectoryOf` opens it. */
export type DirectoryOfData = Awaited<ReturnType<typeof openDirectory>>;

/** Runs `fn` on the directory of `dataDir` (opened here, closed after). */
export async function withDirectoryOf<T>(
  cwd: string,
  dataDir: string,
  fn: (d: DirectoryOfData) => Promise<T>,
): Promise<T> {
  const d = await openDirectory(loadConfig({ env: { DELEGATO_DATA_DIR: dataDir }, cwd }));
  try {
    return await fn(d);
  } finally {
    await d.close();
  }
}
