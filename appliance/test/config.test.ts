import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, envVarFor, listSettings, loadConfig } from '../src/config/load.js';
import { renderConfigReference } from '../src/config/reference.js';
import { configSchema } from '../src/config/schema.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'delegato-config-'));
mkdirSync(join(work, 'regions'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let fileCounter = 0;
/** Writes a region file under <work>/regions/ and returns its path relative to `work`. */
function regionFile(content: string, extension = 'yaml'): string {
  fileCounter += 1;
  const relative = join('regions', `r${fileCounter}.${extension}`);
  writeFileSync(join(work, relative), content);
  return relative;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const DEFAULT_PORTS = {
  smtp: 2525,
  submission: 2587,
  submissions: 2465,
  imap: 2143,
  imaps: 2993,
  pop3: 2110,
  pop3s: 2995,
  admin: 8443,
  web: 8444,
  federation: 2466,
  proxy: 2468,
  http: 2080,
  sync: 2467,
};

describe('configuration schema', () => {
  it('gives the full default configuration from an empty object', () => {
    expect(configSchema.parse({})).toEqual({
      region: { id: 'local', name: 'Local region' },
      listen: '127.0.0.1',
      data: { dir: './var' },
      port: DEFAULT_PORTS,
      tls: {},
      acme: { renewDays: 30 },
      directory: { timezone: 'UTC', retentionDays: 30, cramMd5: true },
      lists: { holdDays: 7 },
      internalNetworks: '',
      admin: { requireTotp: false, allowedNetworks: '', clientCertificates: 'off' },
      smtp: {
        hostname: 'localhost',
        maxMessageBytes: 52428800,
        maxRecipients: 100,
        greetingDelayMs: 0,
        postmaster: '',
        idleTimeoutMs: 60000,
        sessionTimeoutMs: 600000,
        outboundPort: 25,
      },
      auth: { inbound: true, spoofing: 'reject', mtaSts: true, mtaStsMode: 'testing', mtaStsPolicyPort: 443 },
      dns: { servers: '' },
      queue: {
        retrySchedule: '60,300,900,1800,3600,7200,14400',
        giveUpAfterSeconds: 432000,
        delayNotifyAfterSeconds: 14400,
        concurrencyPerDestination: 2,
      },
      federation: { hub: false, hubPort: 0, peers: [] },
      operations: {
        metricsNetworks: '127.0.0.0/8,::1/128',
        expiryWarningDays: 14,
        certificateWarningDays: 21,
        backupSchedule: '41 2 * * *',
        backupKeep: 7,
      },
      log: { level: 'info' },
    });
  });

  it('describes every key, sections included', () => {
    const missing: string[] = [];
    const visit = (shape: Record<string, { description?: string; def: unknown }>, prefix: string) => {
      for (const [key, field] of Object.entries(shape)) {
        const path = prefix ? `${prefix}.${key}` : key;
        if (!field.description) missing.push(path);
        let inner = field as { def: { type: string; innerType?: unknown; shape?: unknown } };
        while (inner.def.innerType) inner = inner.def.innerType as typeof inner;
        if (inner.def.type === 'object') visit(inner.def.shape as typeof shape, path);
      }
    };
    visit(configSchema.shape as never, '');
    expect(missing).toEqual([]);
  });
});

describe('listSettings and envVarFor', () => {
  it('derives environment variable names from the key path', () => {
    expect(envVarFor(['listen'])).toBe('DELEGATO_LISTEN');
    expect(envVarFor(['data', 'dir'])).toBe('DELEGATO_DATA_DIR');
    expect(envVarFor(['port', 'smtp'])).toBe('DELEGATO_PORT_SMTP');
    expect(envVarFor(['directory', 'retentionDays'])).toBe('DELEGATO_DIRECTORY_RETENTION_DAYS');
    expect(envVarFor(['directory', 'cramMd5'])).toBe('DELEGATO_DIRECTORY_CRAM_MD5');
  });

  it('lists every leaf with a description and a unique DELEGATO_ variable', () => {
    const settings = listSettings();
    expect(settings.map((setting) => setting.path)).toEqual([
      'region.id',
      'region.name',
      'listen',
      'data.dir',
      ...Object.keys(DEFAULT_PORTS).map((name) => `port.${name}`),
      'tls.certFile',
      'tls.keyFile',
      'tls.certificatesDir',
      'acme.directoryUrl',
      'acme.email',
      'acme.caFile',
      'acme.renewDays',
      'directory.syncUrl',
      'directory.syncAuthToken',
      'directory.timezone',
      'directory.retentionDays',
      'directory.cramMd5',
      'lists.holdDays',
      'internalNetworks',
      'smtp.hostname',
      'smtp.maxMessageBytes',
      'smtp.maxRecipients',
      'smtp.greetingDelayMs',
      'smtp.postmaster',
      'smtp.idleTimeoutMs',
      'smtp.sessionTimeoutMs',
      'smtp.outboundPort',
      'admin.requireTotp',
      'admin.allowedNetworks',
      'admin.clientCertificates',
      'admin.clientCa',
      'auth.inbound',
      'auth.spoofing',
      'auth.mtaSts',
      'auth.mtaStsMode',
      'auth.mtaStsPolicyPort',
      'auth.mtaStsCa',
      'dns.servers',
      'queue.retrySchedule',
      'queue.giveUpAfterSeconds',
      'queue.delayNotifyAfterSeconds',
      'queue.concurrencyPerDestination',
      'federation.hub',
      'federation.hubRegion',
      'federation.hubUrl',
      'federation.writer',
      'federation.hubPort',
      'federation.peers',
      'operations.metricsNetworks',
      'operations.expiryWarningDays',
      'operations.certificateWarningDays',
      'operations.backupDir',
      'operations.backupSchedule',
      'operations.backupKeep',
      'log.level',
      'log.file',
    ]);
    for (const setting of settings) {
      expect(setting.description.length, setting.path).toBeGreaterThan(10);
      expect(setting.env).toMatch(/^DELEGATO_[A-Z0-9_]+$/);
      expect(setting.env).toBe(envVarFor(setting.path.split('.')));
      expect(setting.type.length).toBeGreaterThan(0);
    }
    expect(new Set(settings.map((setting) => setting.env)).size).toBe(settings.length);
    const byPath = new Map(settings.map((setting) => [setting.path, setting]));
    expect(byPath.get('port.smtp')).toMatchObject({ type: 'integer 0..65535', default: 2525 });
    expect(byPath.get('directory.cramMd5')).toMatchObject({ type: 'boolean', default: true });
    expect(byPath.get('data.dir')).toMatchObject({ type: 'path', default: './var' });
    expect(byPath.get('tls.certFile')?.default).toBeUndefined();
  });
});

describe('loadConfig', () => {
  it('uses the defaults, with data.dir resolved against cwd', () => {
    const config = loadConfig({ env: {}, cwd: work });
    expect(config.region.id).toBe('local');
    expect(config.listen).toBe('127.0.0.1');
    expect(config.data.dir).toBe(join(work, 'var'));
    expect(config.port).toEqual(DEFAULT_PORTS);
    expect(config.directory).toEqual({ timezone: 'UTC', retentionDays: 30, cramMd5: true });
    expect(config.log).toEqual({ level: 'info' });
    expect(config.tls).toEqual({});
  });

  it('reads a YAML region file, resolving its paths against its directory', () => {
    const file = regionFile(`
region:
  id: eu-west-1
  name: Europe West
listen: "::"
data:
  dir: ../state
port:
  smtp: 25
  imaps: 993
tls:
  certFile: tls/cert.pem
  keyFile: /etc/ssl/key.pem
directory:
  syncUrl: https://hub.example.net/
  timezone: Europe/Paris
  retentionDays: 90
  cramMd5: false
log:
  level: debug
  file: logs/delegato.log
`);
    const config = loadConfig({ file, env: {}, cwd: work });
    expect(config.region).toEqual({ id: 'eu-west-1', name: 'Europe West' });
    expect(config.listen).toBe('::');
    expect(config.data.dir).toBe(join(work, 'state'));
    expect(config.port).toEqual({ ...DEFAULT_PORTS, smtp: 25, imaps: 993 });
    expect(config.tls).toEqual({
      certFile: join(work, 'regions', 'tls', 'cert.pem'),
      keyFile: '/etc/ssl/key.pem',
    });
    expect(config.directory).toEqual({
      syncUrl: 'https://hub.example.net/',
      timezone: 'Europe/Paris',
      retentionDays: 90,
      cramMd5: false,
    });
    expect(config.log).toEqual({ level: 'debug', file: join(work, 'regions', 'logs', 'delegato.log') });
  });

  it('reads a JSON region file and treats empty YAML sections as unset', () => {
    const json = regionFile(JSON.stringify({ region: { id: 'json-region' }, port: { web: 9000 } }), 'json');
    expect(loadConfig({ file: json, env: {}, cwd: work })).toMatchObject({
      region: { id: 'json-region', name: 'Local region' },
      port: { web: 9000, admin: 8443 },
    });
    const empty = regionFile('tls:\n  # certFile: x\nlog:\n  file:\n');
    const config = loadConfig({ file: empty, env: {}, cwd: work });
    expect(config.tls).toEqual({});
    expect(config.log).toEqual({ level: 'info' });
    expect(loadConfig({ file: regionFile('# only comments\n'), env: {}, cwd: work }).region.id).toBe('local');
  });

  it('lets environment variables override the file', () => {
    const file = regionFile(
      'region:\n  id: from-file\nport:\n  smtp: 25\n  imap: 143\ndirectory:\n  cramMd5: true\n',
    );
    const config = loadConfig({
      file,
      cwd: work,
      env: {
        DELEGATO_REGION_ID: 'from-env',
        DELEGATO_PORT_SMTP: '2500',
        DELEGATO_DIRECTORY_CRAM_MD5: 'no',
        DELEGATO_DIRECTORY_RETENTION_DAYS: ' 7 ',
        DELEGATO_DATA_DIR: 'env-data',
        DELEGATO_LOG_LEVEL: 'warn',
        DELEGATO_PORT_IMAP: '',
        UNRELATED: 'ignored',
      },
    });
    expect(config.region.id).toBe('from-env');
    expect(config.port.smtp).toBe(2500);
    expect(config.port.imap).toBe(143); // empty variable ignored, file value kept
    expect(config.directory.cramMd5).toBe(false);
    expect(config.directory.retentionDays).toBe(7);
    expect(config.data.dir).toBe(join(work, 'env-data')); // env paths are relative to cwd
    expect(config.log.level).toBe('warn');
  });

  it('accepts every boolean spelling', () => {
    const spellings: Array<[string, boolean]> = [
      ['true', true],
      ['FALSE', false],
      ['1', true],
      ['0', false],
      ['yes', true],
      ['No', false],
    ];
    for (const [raw, expected] of spellings) {
      const config = loadConfig({ env: { DELEGATO_DIRECTORY_CRAM_MD5: raw }, cwd: work });
      expect(config.directory.cramMd5, raw).toBe(expected);
    }
  });

  it('accepts DELEGATO_PORT_SMTP=0 (system-chosen port)', () => {
    expect(loadConfig({ env: { DELEGATO_PORT_SMTP: '0' }, cwd: work }).port.smtp).toBe(0);
  });

  describe('errors', () => {
    it('rejects an out-of-range port from the environment', () => {
      const error = configError(() => loadConfig({ env: { DELEGATO_PORT_SMTP: '70000' }, cwd: work }));
      expect(error.message).toBe('port.smtp: Expected number ≤ 65535 (from DELEGATO_PORT_SMTP)');
      expect(error.key).toBe('port.smtp');
      expect(error.source).toBe('DELEGATO_PORT_SMTP');
    });

    it('rejects a non-integer port from the environment', () => {
      const error = configError(() => loadConfig({ env: { DELEGATO_PORT_IMAP: '143a' }, cwd: work }));
      expect(error.message).toContain('port.imap');
      expect(error.message).toContain('DELEGATO_PORT_IMAP');
    });

    it('rejects a bad port in the file, naming the file', () => {
      const file = regionFile('port:\n  smtp: -1\n  web: 80.5\n');
      const error = configError(() => loadConfig({ file, env: {}, cwd: work }));
      expect(error.message).toContain(`${file}: port.smtp: Expected number ≥ 0`);
      expect(error.message).toContain(`${file}: port.web:`);
      expect(error.key).toBe('port.smtp');
      expect(error.source).toBe(file);
    });

    it('rejects unknown keys in the file, nested and top-level', () => {
      const file = regionFile('port:\n  smpt: 25\nlistne: 0.0.0.0\n');
      const error = configError(() => loadConfig({ file, env: {}, cwd: work }));
      expect(error.message).toContain(`${file}: port.smpt: Unknown setting`);
      expect(error.message).toContain(`${file}: listne: Unknown setting`);
    });

    it('rejects a bad time zone', () => {
      const fromEnv = configError(() =>
        loadConfig({ env: { DELEGATO_DIRECTORY_TIMEZONE: 'Mars/Olympus_Mons' }, cwd: work }),
      );
      expect(fromEnv.message).toContain('directory.timezone');
      expect(fromEnv.message).toContain('(from DELEGATO_DIRECTORY_TIMEZONE)');
      const file = regionFile('directory:\n  timezone: Europe/Atlantis\n');
      const fromFile = configError(() => loadConfig({ file, env: {}, cwd: work }));
      expect(fromFile.message).toMatch(
        /^regions\/r\d+\.yaml: directory\.timezone: Expected an IANA time zone/,
      );
    });

    it('rejects a bad boolean in the environment', () => {
      const error = configError(() =>
        loadConfig({ env: { DELEGATO_DIRECTORY_CRAM_MD5: 'maybe' }, cwd: work }),
      );
      expect(error.message).toBe(
        'directory.cramMd5: Expected true, false, 1, 0, yes or no, got "maybe" (from DELEGATO_DIRECTORY_CRAM_MD5)',
      );
    });

    it('rejects other invalid values with the key path', () => {
      const cases: Array<[Record<string, string>, string]> = [
        [{ DELEGATO_LISTEN: 'localhost' }, 'listen: Expected an IPv4 or IPv6 address (from DELEGATO_LISTEN)'],
        [{ DELEGATO_REGION_ID: 'EU West' }, 'region.id:'],
        [{ DELEGATO_LOG_LEVEL: 'verbose' }, 'log.level:'],
        [{ DELEGATO_DIRECTORY_SYNC_URL: 'not a url' }, 'directory.syncUrl:'],
        [{ DELEGATO_DIRECTORY_RETENTION_DAYS: '4000' }, 'directory.retentionDays: Expected number ≤ 3650'],
        [{ DELEGATO_TLS_CERT_FILE: 'cert.pem' }, 'tls.certFile: Expected tls.keyFile as well'],
      ];
      for (const [env, expected] of cases) {
        const error = configError(() => loadConfig({ env, cwd: work }));
        expect(error.message).toContain(expected);
      }
    });

    it('reports a file value of the wrong shape even when the environment sets a key below it', () => {
      const file = regionFile('port: 25\n');
      const error = configError(() => loadConfig({ file, env: { DELEGATO_PORT_SMTP: '2525' }, cwd: work }));
      expect(error.message).toContain(`${file}: port:`);
    });

    it('reports a missing file', () => {
      const error = configError(() => loadConfig({ file: 'regions/absent.yaml', env: {}, cwd: work }));
      expect(error.message).toContain('regions/absent.yaml: file not found');
      expect(error.message).toContain(join(work, 'regions', 'absent.yaml'));
    });

    it('reports unparseable YAML', () => {
      const file = regionFile('port:\n  smtp: 25\n   imap: [143\n');
      const error = configError(() => loadConfig({ file, env: {}, cwd: work }));
      expect(error.message).toMatch(/^regions\/r\d+\.yaml: invalid YAML: /);
      const duplicate = regionFile('listen: 127.0.0.1\nlisten: ::1\n');
      expect(configError(() => loadConfig({ file: duplicate, env: {}, cwd: work })).message).toContain(
        'invalid YAML',
      );
    });

    it('reports a file that is not a mapping', () => {
      const file = regionFile('- listen\n- 127.0.0.1\n');
      const error = configError(() => loadConfig({ file, env: {}, cwd: work }));
      expect(error.message).toContain(`${file}: the region file must be a mapping`);
    });
  });
});

describe('federation.peers', () => {
  const central = { region: 'central', host: '127.0.2.1', port: 2466 };
  const south = { region: 'south', host: 'south.example.net', port: 2500 };

  it('reads the environment string, a YAML list and a YAML map into one list (port 2466 by default)', () => {
    const fromEnv = loadConfig({
      env: { DELEGATO_FEDERATION_PEERS: ' central=127.0.2.1 , south=south.example.net:2500,east=[::1]:2470' },
      cwd: work,
    });
    expect(fromEnv.federation.peers).toEqual([central, south, { region: 'east', host: '::1', port: 2470 }]);
    const list = regionFile(
      'federation:\n  peers:\n    - { region: central, host: 127.0.2.1 }\n    - region: south\n      host: south.example.net\n      port: 2500\n',
    );
    expect(loadConfig({ file: list, env: {}, cwd: work }).federation.peers).toEqual([central, south]);
    const map = regionFile(
      'federation:\n  peers:\n    central: 127.0.2.1\n    south: { host: south.example.net, port: 2500 }\n',
    );
    expect(loadConfig({ file: map, env: {}, cwd: work }).federation.peers).toEqual([central, south]);
    // The environment wins over the file, as for every setting.
    expect(
      loadConfig({ file: map, env: { DELEGATO_FEDERATION_PEERS: 'south=10.0.0.3' }, cwd: work }).federation
        .peers,
    ).toEqual([{ region: 'south', host: '10.0.0.3', port: 2466 }]);
  });

  it('refuses malformed entries, naming the key and where the value came from', () => {
    const env = (value: string) =>
      configError(() => loadConfig({ env: { DELEGATO_FEDERATION_PEERS: value }, cwd: work })).message;
    expect(env('central')).toMatch(
      /^federation\.peers: Expected region=host:port pairs .*\(from DELEGATO_FEDERATION_PEERS\)$/,
    );
    expect(env('central=a:b')).toMatch(/Expected host or host:port for region central/);
    expect(env('Central=127.0.2.1')).toMatch(/^federation\.peers\.0\.region: Expected a region id/);
    expect(env('central=127.0.2.1:70000')).toMatch(/^federation\.peers\.0\.port: /);
    expect(env('central=1.2.3.4,central=1.2.3.5')).toMatch(
      /^federation\.peers\.1\.region: Expected one entry per region, central is listed twice \(from DELEGATO_FEDERATION_PEERS\)$/,
    );
    const file = regionFile('federation:\n  peers:\n    - { region: central, host: 127.0.2.1, tls: off }\n');
    expect(configError(() => loadConfig({ file, env: {}, cwd: work })).message).toMatch(
      /federation\.peers\.0\.tls: Unknown setting/,
    );
  });
});

describe('regions/local.yaml', () => {
  it('parses and writes out exactly the built-in defaults', () => {
    const fromFile = loadConfig({ file: 'regions/local.yaml', env: {}, cwd: repoRoot });
    expect(fromFile.region.id).toBe('local');
    expect(fromFile).toEqual(loadConfig({ env: {}, cwd: repoRoot }));
    expect(fromFile.data.dir).toBe(resolve(repoRoot, 'var'));
  });

  it('mentions every setting', () => {
    const text = readFileSync(join(repoRoot, 'regions', 'local.yaml'), 'utf8');
    for (const setting of listSettings()) {
      const key = setting.path.split('.').at(-1);
      expect(text, setting.path).toMatch(new RegExp(`^\\s*(# )?${key}:`, 'm'));
    }
  });
});

describe('docs/config-reference.md', () => {
  it('matches renderConfigReference() (run `npm run docs:config` after changing the schema)', () => {
    const committed = readFileSync(join(repoRoot, 'docs', 'config-reference.md'), 'utf8');
    expect(committed).toBe(renderConfigReference());
  });

  it('lists every setting with its environment variable', () => {
    const reference = renderConfigReference();
    expect(reference).toContain('defaults < region file < environment');
    for (const setting of listSettings()) {
      expect(reference).toContain(`| \`${setting.path}\` | \`${setting.env}\` |`);
    }
  });
});
