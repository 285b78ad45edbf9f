/**
 * CRAM-MD5 (RFC 2195): the server sends `<random.timestamp@hostname>`, the client answers
 * `user SP hex(HMAC-MD5(secret, challenge))` (lower-case hex; upper-case is tolerated).
 *
 * No initial response is allowed. Unknown users (and users without a CRAM secret) take the same path: the
 * digest is computed with a throwaway secret and compared in constant time, then the exchange fails.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SaslSession, SaslStep } from '../types.js';
import {
  badCredentials,
  decodeUtf8,
  MAX_RESPONSE_BYTES,
  type MechanismContext,
  malformed,
  throttled,
  validIdentity,
} from '../util.js';

type State = 'initial' | 'await-response' | 'done';

const HEX_DIGEST = /^[0-9a-fA-F]{32}$/;

export class CramMd5Session implements SaslSession {
  readonly mechanism = 'CRAM-MD5' as const;
  private state: State = 'initial';
  private challenge = '';

  constructor(private readonly ctx: MechanismContext) {}

  async start(initialResponse: Buffer | undefined): Promise<SaslStep> {
    if (this.state !== 'initial' || initialResponse !== undefined) {
      this.state = 'done';
      return malformed();
    }
    this.challenge = cramChallenge(this.ctx);
    this.state = 'await-response';
    return { kind: 'challenge', data: Buffer.from(this.challenge) };
  }

  async next(response: Buffer): Promise<SaslStep> {
    if (this.state !== 'await-response') {
      this.state = 'done';
      return malformed();
    }
    this.state = 'done';
    const text = response.length <= MAX_RESPONSE_BYTES ? decodeUtf8(response) : null;
    if (text === null) return malformed();
    const sp = text.lastIndexOf(' ');
    const login = text.slice(0, Math.max(sp, 0));
    const hex = text.slice(sp + 1);
    if (sp < 0 || !validIdentity(login) || !HEX_DIGEST.test(hex)) return malformed();
    const wait = this.ctx.gate.check(login);
    if (wait !== null) return throttled(login, wait);

    const found = await this.ctx.store.cramSecret(login);
    const secret = found ? found.secret : this.ctx.secret.toString('base64');
    const expected = createHmac('md5', secret).update(this.challenge).digest();
    const given = Buffer.from(hex, 'hex');
    const equal = timingSafeEqual(expected, given);
    if (!found || !equal) {
      this.ctx.gate.fail(login);
      return badCredentials(login);
    }
    this.ctx.gate.succeed(login);
    return { kind: 'success', user: found.user };
  }
}

/** `<random.timestamp@hostname>`: 64 random bits in decimal, Unix seconds, the server's name. */
export function cramChallenge(ctx: Pick<MechanismContext, 'random' | 'now' | 'hostname'>): string {
  const rnd = Buffer.alloc(8);
  ctx.random(8).copy(rnd);
  const seconds = Math.floor(ctx.now().getTime() / 1000);
  return `<${rnd.readBigUInt64BE()}.${seconds}@${ctx.hostname}>`;
}
