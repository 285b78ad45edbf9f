/**
 * The shared login sequences: `passwordLogin` (rate-limit, verify, record, report) and `saslExchange`
 * (the challenge/response loop of IMAP AUTHENTICATE and POP3 AUTH), with a scripted client.
 */
import { describe, expect, it } from 'vitest';
import { type LoginFailure, passwordLogin, saslExchange } from '../src/login.js';
import { LoginRateLimiter } from '../src/rate-limit.js';
import { MemoryCredentialStore } from './memory-store.js';

const PASSWORD = 'correct horse';
const LOGIN = 'alice@example.com';
const credentials = new MemoryCredentialStore([{ login: LOGIN, password: PASSWORD }]);
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('passwordLogin', () => {
  it('verifies, records failures and successes in the limiter, reports failures without the secret', async () => {
    const rateLimiter = new LoginRateLimiter({ maxPerAccount: 2 });
    const failures: LoginFailure[] = [];
    const attempt = (password: string) =>
      passwordLogin({
        credentials,
        rateLimiter,
        address: '192.0.2.1',
        mechanism: 'LOGIN',
        login: LOGIN,
        password,
        onFailure: (f) => failures.push(f),
      });
    expect(await attempt('wrong')).toEqual({ kind: 'failed' });
    expect((await attempt(PASSWORD)).kind).toBe('success');
    expect(await attempt('wrong')).toEqual({ kind: 'failed' });
    expect(await attempt('wrong')).toEqual({ kind: 'failed' });
    const refused = await attempt(PASSWORD);
    expect(refused.kind).toBe('rate-limited');
    expect(failures.at(-1)).toEqual({ login: LOGIN, mechanism: 'LOGIN', reason: 'rate-limited' });
    expect(failures[0]).toEqual({ login: LOGIN, mechanism: 'LOGIN' });
    expect(JSON.stringify(failures)).not.toContain('wrong');
  });
});

describe('saslExchange', () => {
  /** Answers each challenge from `script` (null: the connection is gone). */
  const exchange = (
    mechanism: 'PLAIN' | 'LOGIN',
    initialResponse: Buffer | undefined,
    script: Array<string | null>,
  ) => {
    const challenges: string[] = [];
    const failures: LoginFailure[] = [];
    const outcome = saslExchange({
      mechanism,
      initialResponse,
      credentials,
      rateLimiter: undefined,
      address: '192.0.2.1',
      hostname: 'mail.example.com',
      maxSteps: 3,
      onFailure: (f) => failures.push(f),
      challenge: async (base64) => {
        challenges.push(base64);
        return script.length ? (script.shift() as string | null) : '';
      },
    });
    return { outcome, challenges, failures };
  };

  it('succeeds with an initial response, and through challenges', async () => {
    const ir = exchange('PLAIN', Buffer.from(`\0${LOGIN}\0${PASSWORD}`), []);
    expect((await ir.outcome).kind).toBe('success');
    expect(ir.challenges).toEqual([]);
    const login = exchange('LOGIN', undefined, [b64(LOGIN), b64(PASSWORD)]);
    expect((await login.outcome).kind).toBe('success');
    expect(login.challenges).toEqual([b64('Username:'), b64('Password:')]);
  });

  it('fails, aborts, refuses bad base64, stops when the connection is gone', async () => {
    const wrong = exchange('LOGIN', undefined, [b64(LOGIN), b64('nope')]);
    expect(await wrong.outcome).toEqual({ kind: 'failed' });
    expect(wrong.failures).toEqual([{ login: LOGIN, mechanism: 'LOGIN' }]);
    expect(await exchange('LOGIN', undefined, ['*']).outcome).toEqual({ kind: 'aborted' });
    expect(await exchange('LOGIN', undefined, ['not base64!']).outcome).toEqual({ kind: 'invalid-base64' });
    expect(await exchange('LOGIN', undefined, [null]).outcome).toEqual({ kind: 'closed' });
  });
});
