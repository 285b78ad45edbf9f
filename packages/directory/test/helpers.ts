import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Actor, Directory, type DirectoryOptions, FederationKey } from '../src/index.js';

export const operator: Actor = { kind: 'operator', name: 'op', from: '127.0.0.1' };

/** A real directory database in a fresh temp dir. */
export async function tempDirectory(
  overrides: Partial<DirectoryOptions> = {},
): Promise<{ dir: Directory; path: string; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'delegato-dir-'));
  const path = join(root, 'directory.db');
  const dir = await Directory.open({
    path,
    regionId: 'local',
    timezone: 'UTC',
    retentionDays: 30,
    cramMd5: true,
    key: FederationKey.fromBytes(randomBytes(32)),
    ...overrides,
  });
  return {
    dir,
    path,
    cleanup: async () => {
      await dir.close().catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
