/** Opens the directory of a data dir with the settings of the config (appliance and local CLI alike). */
import { Directory, type DirectoryOptions, FederationKey } from '@delegato/directory';
import type { Config } from './config/schema.js';
import { dataPaths, ensureDataDir } from './data-dir.js';

/** `extra`: the federation's options (sync remote, role, writer; services/federation-directory.ts). */
export async function openDirectory(
  config: Config,
  extra: Partial<Pick<DirectoryOptions, 'sync' | 'role' | 'waitForSchema' | 'writer'>> = {},
): Promise<Directory> {
  ensureDataDir(config.data.dir);
  const paths = dataPaths(config.data.dir);
  try {
    return await Directory.open({
      path: paths.directoryDb,
      ...(config.directory.syncUrl ? { syncUrl: config.directory.syncUrl } : {}),
      regionId: config.region.id,
      regionTitle: config.region.name,
      timezone: config.directory.timezone,
      retentionDays: config.directory.retentionDays,
      cramMd5: config.directory.cramMd5,
      key: FederationKey.loadOrCreate(paths.federationKey),
      ...extra,
    });
  } catch (err) {
    if (err instanceof Error && /locked/i.test(err.message)) {
      throw new Error(
        `the directory ${paths.directoryDb} is locked by another process (an appliance starting or stopping?); try again`,
      );
    }
    throw err;
  }
}
