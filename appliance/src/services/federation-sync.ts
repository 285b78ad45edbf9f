/**
 * How this region's directory replica reaches the hub, from the configuration and the installed federation
 * bundle: what to spread into `connect({ path, ...options })` of @tursodatabase/sync. For the directory
 * integration (packages/directory), which opens its replica with it; nothing calls it at start yet.
 *
 * | configuration                                   | remote                                                   |
 * | ----------------------------------------------- | -------------------------------------------------------- |
 * | `directory.syncUrl` + `directory.syncAuthToken`  | Turso Cloud: the URL and token, public TLS               |
 * | `directory.syncUrl` alone                        | that URL as it is (a tursodb sync server of one's own)   |
 * | `federation.hub` (this region runs the hub)      | the hub on loopback (`HubSupervisor.url`), no TLS        |
 * | `federation.hubUrl` + `federation.hubRegion`     | the hub region's sync gateway with this region's certificate, accepting only `hubRegion`'s |
 * | none of them                                     | undefined: standalone                                    |
 */
import { loadRegionTls, type SyncConnectOptions, syncConnectOptions } from '@delegato/federation';
import type { Config } from '../config/schema.js';

export interface DirectorySync extends SyncConnectOptions {
  /** Which row of the table above. */
  kind: 'turso-cloud' | 'url' | 'hub-loopback' | 'federation';
}

/**
 * The sync connect options for this region, or undefined when it is standalone. `hubUrl` is the loopback
 * URL of the hub this appliance runs (`FederationHub.hub.url`), needed when `federation.hub` is true.
 * Throws when `federation.hubUrl` is set but no region certificate is installed, or it is another region's.
 */
export async function directorySyncOptions(
  config: Config,
  running: { hubUrl?: string } = {},
): Promise<DirectorySync | undefined> {
  const { directory, federation } = config;
  if (directory.syncUrl !== undefined) {
    if (directory.syncAuthToken !== undefined) {
      return {
        kind: 'turso-cloud',
        ...syncConnectOptions({
          kind: 'turso-cloud',
          url: directory.syncUrl,
          authToken: directory.syncAuthToken,
        }),
      };
    }
    return { kind: 'url', options: { url: directory.syncUrl }, close: () => undefined };
  }
  if (federation.hub) {
    if (!running.hubUrl) throw new Error('federation.hub is true but the hub is not running here');
    return { kind: 'hub-loopback', options: { url: running.hubUrl }, close: () => undefined };
  }
  if (federation.hubUrl !== undefined && federation.hubRegion !== undefined) {
    const tls = await loadRegionTls(config.data.dir);
    if (tls.region !== config.region.id) {
      throw new Error(
        `the federation certificate in ${config.data.dir}/federation is region ${tls.region}'s, but this region is ${config.region.id} (region.id)`,
      );
    }
    return {
      kind: 'federation',
      ...syncConnectOptions({
        kind: 'federation',
        url: federation.hubUrl,
        hubRegion: federation.hubRegion,
        tls,
      }),
    };
  }
  return undefined;
}
