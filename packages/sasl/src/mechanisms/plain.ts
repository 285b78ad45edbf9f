/**
 * PLAIN (RFC 4616): one client message `[authzid] NUL authcid NUL passwd`, UTF-8.
 *
 * Without an initial response the server sends an empty challenge first. The authorization identity, if
 * not empty, must name the authenticated user itself (the login or its address, any case); it is checked
 * after the password, so a wrong authzid costs the same as a wrong password.
 */
import type { SaslSession, SaslStep } from '../types.js';
import {
  authzidMatches,
  badCredentials,
  decodeUtf8,
  MAX_PASSWORD_BYTES,
  MAX_RESPONSE_BYTES,
  type MechanismContext,
  malformed,
  throttled,
  validIdentity,
} from '../util.js';

type State = 'initial' | 'await-response' | 'done';

export class PlainSession implements SaslSession {
  readonly mechanism = 'PLAIN' as const;
  private state: State = 'initial';

  constructor(private readonly ctx: MechanismContext) {}

  async start(initialResponse: Buffer | undefined): Promise<SaslStep> {
    if (this.state !== 'initial') return this.finish(malformed());
    if (initialResponse === undefined) {
      this.state = 'await-response';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    return this.respond(initialResponse);
  }

  async next(response: Buffer): Promise<SaslStep> {
    if (this.state !== 'await-response') return this.finish(malformed());
    return this.respond(response);
  }

  private finish(step: SaslStep): SaslStep {
    this.state = 'done';
    return step;
  }

  private async respond(response: Buffer): Promise<SaslStep> {
    this.state = 'done';
    const parsed = parsePlain(response);
    if (!parsed) return malformed();
    const { authzid, authcid, passwd } = parsed;
    const wait = this.ctx.gate.check(authcid);
    if (wait !== null) return throttled(authcid, wait);
    const user = await this.ctx.store.verifyPassword(authcid, passwd);
    if (!user || (authzid !== '' && !authzidMatches(authzid, authcid, user.address))) {
      this.ctx.gate.fail(authcid);
      return badCredentials(authcid);
    }
    this.ctx.gate.succeed(authcid);
    return { kind: 'success', user };
  }
}

/** Splits a PLAIN message, or returns null when it is malformed (never throws). */
export function parsePlain(msg: Buffer): { authzid: string; authcid: string; passwd: string } | null {
  if (msg.length === 0 || msg.length > MAX_RESPONSE_BYTES) return null;
  const first = msg.indexOf(0);
  if (first < 0) return null;
  const second = msg.indexOf(0, first + 1);
  if (second < 0 || msg.indexOf(0, second + 1) >= 0) return null;
  const authzid = decodeUtf8(msg.subarray(0, first));
  const authcid = decodeUtf8(msg.subarray(first + 1, second));
  const pw = msg.subarray(second + 1);
  const passwd = decodeUtf8(pw);
  if (authzid === null || authcid === null || passwd === null) return null;
  if (!validIdentity(authcid) || passwd.length === 0 || pw.length > MAX_PASSWORD_BYTES) return null;
  if (authzid !== '' && !validIdentity(authzid)) return null;
  return { authzid, authcid, passwd };
}
