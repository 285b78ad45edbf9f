/**
 * The federation configuration keys (decision 0006): defaults, environment variables, the rules between
 * them, and what `directorySyncOptions` makes of them.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, listSettings, loadConfig } from '../src/config/load.js';
import { directorySyncOptions } from '../src/services/federation-sync.js';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: '/tmp' });

function refusedWith(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('federation configuration keys', () => {
  it('default to a standalone region; port.sync is 2467', () => {
    const config = load({});
    expect(config.federation).toEqual({ hub: false, hubPort: 0, peers: [] });
    expect(config.port.sync).toBe(2467);
    expect(config.port.federation).toBe(2466);
    expect(config.directory.syncAuthToken).toBeUndefined();
  });

  it('have environment variables derived from their paths', () => {
    const env = Object.fromEntries(listSettings().map((s) => [s.path, s.env]));
    expect(env).toMatchObject({
      'federation.hub': 'DELEGATO_FEDERATION_HUB',
      'federation.hubRegion': 'DELEGATO_FEDERATION_HUB_REGION',
      'federation.hubUrl': 'DELEGATO_FEDERATION_HUB_URL',
      'federation.hubPort': 'DELEGATO_FEDERATION_HUB_PORT',
      'port.sync': 'DELEGATO_PORT_SYNC',
      'directory.syncAuthToken': 'DELEGATO_DIRECTORY_SYNC_AUTH_TOKEN',
    });
  });

  it('accept a hub region and a region that syncs through it', () => {
    const hub = load({
      DELEGATO_REGION_ID: 'north',
      DELEGATO_FEDERATION_HUB: 'true',
      DELEGATO_FEDERATION_HUB_PORT: '7000',
      DELEGATO_PORT_SYNC: '0',
    });
    expect(hub.federation).toEqual({ hub: true, hubPort: 7000, peers: [] });
    const other = load({
      DELEGATO_REGION_ID: 'south',
      DELEGATO_FEDERATION_HUB_REGION: 'north',
      DELEGATO_FEDERATION_HUB_URL: 'https://north.example.net:2467',
    });
    expect(other.federation).toMatchObject({
      hub: false,
      hubRegion: 'north',
      hubUrl: 'https://north.example.net:2467',
    });
  });

  it('refuse hubUrl without hubRegion, a clear-text hubUrl, and a bad region id', () => {
    expect(refusedWith({ DELEGATO_FEDERATION_HUB_URL: 'https://north.example.net:2467' }).message).toContain(
      'federation.hubRegion',
    );
    expect(
      refusedWith({
        DELEGATO_FEDERATION_HUB_URL: 'http://north.example.net:2467',
        DELEGATO_FEDERATION_HUB_REGION: 'north',
      }).message,
    ).toMatch(/federation\.hubUrl.*https/);
    expect(refusedWith({ DELEGATO_FEDERATION_HUB_REGION: 'North!' }).message).toContain(
      'federation.hubRegion',
    );
  });

  it('refuse a hub region that names another region than this one', () => {
    const err = refusedWith({
      DELEGATO_REGION_ID: 'south',
      DELEGATO_FEDERATION_HUB: 'true',
      DELEGATO_FEDERATION_HUB_REGION: 'north',
    });
    expect(err.message).toContain('federation.hubRegion');
    expect(err.message).toContain('names north');
  });

  it('refuse Turso Cloud and the federation hub together, and a token without its URL', () => {
    expect(
      refusedWith({
        DELEGATO_DIRECTORY_SYNC_URL: 'libsql://dir-acme.turso.io',
        DELEGATO_FEDERATION_HUB: 'true',
      }).message,
    ).toContain('directory.syncUrl');
    expect(refusedWith({ DELEGATO_DIRECTORY_SYNC_AUTH_TOKEN: 'token' }).message).toContain(
      'directory.syncAuthToken',
    );
  });
});

describe('directorySyncOptions', () => {
  it('standalone: undefined', async () => {
    expect(await directorySyncOptions(load({}))).toBeUndefined();
  });

  it('Turso Cloud: the URL and the token, no custom fetch', async () => {
    const sync = await directorySyncOptions(
      load({
        DELEGATO_DIRECTORY_SYNC_URL: 'libsql://dir-acme.turso.io',
        DELEGATO_DIRECTORY_SYNC_AUTH_TOKEN: 'tok',
      }),
    );
    expect(sync?.kind).toBe('turso-cloud');
    expect(sync?.options).toEqual({ url: 'libsql://dir-acme.turso.io', authToken: 'tok' });
  });

  it('the hub region: the hub on loopback, once it runs', async () => {
    const config = load({ DELEGATO_FEDERATION_HUB: 'true' });
    await expect(directorySyncOptions(config)).rejects.toThrow('not running');
    const sync = await directorySyncOptions(config, { hubUrl: 'http://127.0.0.1:41000' });
    expect(sync).toMatchObject({ kind: 'hub-loopback', options: { url: 'http://127.0.0.1:41000' } });
  });

  it('another region without its certificate: refused, naming the command to run', async () => {
    const config = load({
      DELEGATO_DATA_DIR: '/tmp/delegato-no-such-data-dir',
      DELEGATO_FEDERATION_HUB_REGION: 'north',
      DELEGATO_FEDERATION_HUB_URL: 'https://127.0.0.1:1',
    });
    await expect(directorySyncOptions(config)).rejects.toThrow('federation join');
  });
});
