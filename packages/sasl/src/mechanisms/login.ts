/**
 * LOGIN (draft-murchison-sasl-login, never an RFC; what Outlook and old clients speak): the server asks
 * `Username:` then `Password:`, each answered with the bare UTF-8 value. An initial response is the
 * username, so the exchange goes straight to `Password:`.
 */
import type { SaslSession, SaslStep } from '../types.js';
import {
  badCredentials,
  decodeUtf8,
  MAX_PASSWORD_BYTES,
  type MechanismContext,
  malformed,
  throttled,
  validIdentity,
} from '../util.js';

export const LOGIN_USERNAME_PROMPT = 'Username:';
export const LOGIN_PASSWORD_PROMPT = 'Password:';

type State = 'initial' | 'await-username' | 'await-password' | 'done';

export class LoginSession implements SaslSession {
  readonly mechanism = 'LOGIN' as const;
  private state: State = 'initial';
  private username = '';

  constructor(private readonly ctx: MechanismContext) {}

  async start(initialResponse: Buffer | undefined): Promise<SaslStep> {
    if (this.state !== 'initial') return this.fail(malformed());
    if (initialResponse === undefined) {
      this.state = 'await-username';
      return { kind: 'challenge', data: Buffer.from(LOGIN_USERNAME_PROMPT) };
    }
    return this.takeUsername(initialResponse);
  }

  async next(response: Buffer): Promise<SaslStep> {
    if (this.state === 'await-username') return this.takeUsername(response);
    if (this.state === 'await-password') return this.takePassword(response);
    return this.fail(malformed());
  }

  private fail(step: SaslStep): SaslStep {
    this.state = 'done';
    return step;
  }

  private takeUsername(response: Buffer): SaslStep {
    const username = decodeUtf8(response);
    if (username === null || !validIdentity(username)) return this.fail(malformed());
    const wait = this.ctx.gate.check(username);
    if (wait !== null) return this.fail(throttled(username, wait));
    this.username = username;
    this.state = 'await-password';
    return { kind: 'challenge', data: Buffer.from(LOGIN_PASSWORD_PROMPT) };
  }

  private async takePassword(response: Buffer): Promise<SaslStep> {
    this.state = 'done';
    const login = this.username;
    const password = response.length <= MAX_PASSWORD_BYTES ? decodeUtf8(response) : null;
    if (password === null || password.length === 0 || password.includes('\0')) return malformed(login);
    const user = await this.ctx.store.verifyPassword(login, password);
    if (!user) {
      this.ctx.gate.fail(login);
      return badCredentials(login);
    }
    this.ctx.gate.succeed(login);
    return { kind: 'success', user };
  }
}
