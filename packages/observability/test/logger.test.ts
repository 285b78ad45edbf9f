import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { childFor, createLogger, type Logger, REDACTED_KEYS } from '../src/index.js';

const SECRETS = {
  password: 'hunter2-top-level',
  secret: 'shared-secret-value',
  token: 'bearer-token-value',
  nested: 'nested-password-value',
  header: 'Basic dXNlcjpodW50ZXIy',
  cookie: 'session=cookie-value',
  newPassword: 'new-password-value',
  pass: 'pop3-pass-value',
};

function capture(): { stream: PassThrough; text: () => Promise<string> } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return {
    stream,
    text: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

function logSecrets(logger: Logger): void {
  logger.info({ user: 'alice', password: SECRETS.password }, 'login');
  logger.info({ secret: SECRETS.secret, token: SECRETS.token });
  logger.warn({ auth: { user: 'alice', password: SECRETS.nested } }, 'nested');
  logger.info({ req: { method: 'GET', headers: { authorization: SECRETS.header, cookie: SECRETS.cookie } } });
  logger.info({ newPassword: SECRETS.newPassword, pop: { pass: SECRETS.pass } });
}

function expectNoSecrets(output: string): void {
  for (const value of Object.values(SECRETS)) expect(output).not.toContain(value);
}

const tempDirs: string[] = [];
afterAll(async () => {
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
});

describe('createLogger', () => {
  it('redacts credentials in JSON output', async () => {
    const { stream, text } = capture();
    const logger = createLogger({ destination: stream });
    logSecrets(logger);

    const output = await text();
    expectNoSecrets(output);
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatchObject({ user: 'alice', password: '[redacted]', msg: 'login' });
    expect(lines[1]).toMatchObject({ secret: '[redacted]', token: '[redacted]' });
    expect(lines[2]).toMatchObject({ auth: { user: 'alice', password: '[redacted]' } });
    expect(lines[3]).toMatchObject({
      req: { method: 'GET', headers: { authorization: '[redacted]', cookie: '[redacted]' } },
    });
    expect(lines[4]).toMatchObject({ newPassword: '[redacted]', pop: { pass: '[redacted]' } });
    expect(typeof lines[0].time).toBe('string');
    expect(lines[0].pid).toBe(process.pid);
  });

  it('covers the credential keys in REDACTED_KEYS', () => {
    for (const key of ['password', 'secret', 'token', 'authorization', 'cookie', 'newPassword', 'pass']) {
      expect(REDACTED_KEYS).toContain(key);
      expect(REDACTED_KEYS).toContain(`*.${key}`);
    }
    expect(REDACTED_KEYS).toContain('req.headers.authorization');
    expect(REDACTED_KEYS).toContain('req.headers.cookie');
  });

  it('adds child bindings and base fields, and keeps redacting in children', async () => {
    const { stream, text } = capture();
    const logger = createLogger({ destination: stream, base: { service: 'delegato' } });
    const child = childFor(logger, { cid: 'c-42', proto: 'imap', region: 'eu-1' });
    child.info({ password: SECRETS.password }, 'auth attempt');
    childFor(logger, { cid: 'c-43', proto: undefined }).info('partial');

    const output = await text();
    expectNoSecrets(output);
    const [first, second] = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      service: 'delegato',
      cid: 'c-42',
      proto: 'imap',
      region: 'eu-1',
      password: '[redacted]',
      msg: 'auth attempt',
    });
    expect(second).toMatchObject({ cid: 'c-43', msg: 'partial' });
    expect(second).not.toHaveProperty('proto');
  });

  it('respects the level', async () => {
    const { stream, text } = capture();
    const logger = createLogger({ destination: stream, level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    const output = await text();
    expect(output).toContain('shown');
    expect(output).not.toContain('hidden');
  });

  it('redacts in pretty output too', async () => {
    const { stream, text } = capture();
    const logger = createLogger({ destination: stream, pretty: true });
    logSecrets(logger);
    await new Promise((resolve) => setTimeout(resolve, 50));

    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
    const output = (await text()).replace(/\u001b\[[0-9;]*m/g, '');
    expectNoSecrets(output);
    expect(output).toContain('[redacted]');
    expect(output).toContain('login');
    expect(output).not.toMatch(/^\{/);
  });

  it('writes JSON lines to a file, creating its directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'delegato-log-'));
    tempDirs.push(dir);
    const file = join(dir, 'nested', 'delegato.log');
    const logger = createLogger({ file });
    logSecrets(logger);

    // The file destination writes asynchronously: wait for all five lines to land.
    const output = await vi.waitFor(
      async () => {
        const text = await readFile(file, 'utf8');
        expect(text.trim().split('\n')).toHaveLength(5);
        return text;
      },
      { timeout: 2000, interval: 20 },
    );
    expectNoSecrets(output);
    const lines = output.trim().split('\n');
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ password: '[redacted]', msg: 'login' });
  });
});
