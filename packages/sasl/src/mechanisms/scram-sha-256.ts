/**
 * SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding (no -PLUS variant).
 *
 *   C: n,,n=user,r=cnonce                              client-first (gs2 header `n,,` or `y,,`, optional a=)
 *   S: r=cnonce+snonce,s=salt,i=iterations             server-first
 *   C: c=biws,r=cnonce+snonce,p=proof                  client-final
 *   S: v=ServerSignature                               server-final, delivered as `final` with success
 *
 * The server holds StoredKey and ServerKey only (RFC 5802 §3). It checks the proof:
 * ClientSignature = HMAC(StoredKey, AuthMessage), ClientKey = ClientProof XOR ClientSignature,
 * H(ClientKey) == StoredKey (constant time). Unknown users (and accounts that may not log in) get a
 * server-first message with a salt derived by HMAC from the user name and the server secret, so it is
 * stable across attempts, then fail at the proof like a wrong password (RFC 5802 §5.1).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { saslprep } from '../saslprep.js';
import type { AuthenticatedUser, SaslSession, SaslStep } from '../types.js';
import {
  authzidMatches,
  badCredentials,
  decodeUtf8,
  MAX_RESPONSE_BYTES,
  type MechanismContext,
  malformed,
  throttled,
  validIdentity,
} from '../util.js';

/** Length of the server's nonce part, in printable characters (about 196 bits). */
export const SCRAM_SERVER_NONCE_LENGTH = 30;
/** Salt length announced for unknown users: what the directory uses. */
export const SCRAM_FAKE_SALT_BYTES = 16;

type State = 'initial' | 'await-client-first' | 'await-client-final' | 'done';

interface Exchange {
  login: string;
  authzid: string;
  gs2Header: string;
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  user: AuthenticatedUser | null;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** printable = %x21-2B / %x2D-7E (RFC 5802 §7): any visible ASCII except the comma. */
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;
const ATTR = /^[A-Za-z]=/;

export class ScramSha256Session implements SaslSession {
  readonly mechanism = 'SCRAM-SHA-256' as const;
  private state: State = 'initial';
  private exchange: Exchange | null = null;

  constructor(private readonly ctx: MechanismContext) {}

  async start(initialResponse: Buffer | undefined): Promise<SaslStep> {
    if (this.state !== 'initial') return this.abandon(malformed());
    if (initialResponse === undefined) {
      this.state = 'await-client-first';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    return this.clientFirst(initialResponse);
  }

  async next(response: Buffer): Promise<SaslStep> {
    if (this.state === 'await-client-first') return this.clientFirst(response);
    if (this.state === 'await-client-final') return this.clientFinal(response);
    return this.abandon(malformed());
  }

  private abandon(step: SaslStep): SaslStep {
    this.state = 'done';
    this.exchange = null;
    return step;
  }

  private async clientFirst(response: Buffer): Promise<SaslStep> {
    this.state = 'done';
    const parsed = parseClientFirst(response);
    if (!parsed) return malformed();
    const { login } = parsed;
    const wait = this.ctx.gate.check(login);
    if (wait !== null) return throttled(login, wait);

    const keys = await this.ctx.store.scramKeys(login);
    const salt = keys ? keys.salt : fakeSalt(this.ctx.secret, login);
    const iterations = keys ? keys.iterations : this.ctx.fakeScramIterations;
    const nonce = parsed.clientNonce + serverNonce(this.ctx.random);
    const serverFirst = `r=${nonce},s=${salt.toString('base64')},i=${iterations}`;
    this.exchange = {
      login,
      authzid: parsed.authzid,
      gs2Header: parsed.gs2Header,
      clientFirstBare: parsed.clientFirstBare,
      serverFirst,
      nonce,
      user: keys ? keys.user : null,
      storedKey: keys ? keys.storedKey : fakeKey(this.ctx.secret, 'stored', login),
      serverKey: keys ? keys.serverKey : fakeKey(this.ctx.secret, 'server', login),
    };
    this.state = 'await-client-final';
    return { kind: 'challenge', data: Buffer.from(serverFirst) };
  }

  private async clientFinal(response: Buffer): Promise<SaslStep> {
    const ex = this.exchange;
    this.state = 'done';
    this.exchange = null;
    if (!ex) return malformed();
    const parsed = parseClientFinal(response);
    if (parsed?.proof.length !== 32) return malformed(ex.login);
    if (parsed.channelBinding !== ex.gs2Header || parsed.nonce !== ex.nonce) return malformed(ex.login);

    const authMessage = `${ex.clientFirstBare},${ex.serverFirst},${parsed.withoutProof}`;
    const clientSignature = createHmac('sha256', ex.storedKey).update(authMessage).digest();
    const clientKey = xor(parsed.proof, clientSignature);
    const computed = createHash('sha256').update(clientKey).digest();
    // A StoredKey of the wrong length is a store bug; it fails without the comparison (which would throw).
    const match = ex.storedKey.length === computed.length && timingSafeEqual(computed, ex.storedKey);
    const user = ex.user;
    if (!match || !user || (ex.authzid !== '' && !authzidMatches(ex.authzid, ex.login, user.address))) {
      this.ctx.gate.fail(ex.login);
      return badCredentials(ex.login);
    }
    this.ctx.gate.succeed(ex.login);
    const serverSignature = createHmac('sha256', ex.serverKey).update(authMessage).digest();
    return { kind: 'success', user, final: Buffer.from(`v=${serverSignature.toString('base64')}`) };
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < out.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** Decodes a saslname (RFC 5802 §5.1: `=2C` is a comma, `=3D` an equals sign; any other `=` is an error). */
export function decodeSaslname(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C|=3D/g, (m) => (m === '=2C' ? ',' : '='));
}

interface ClientFirst {
  gs2Header: string;
  authzid: string;
  login: string;
  clientNonce: string;
  clientFirstBare: string;
}

/** Parses client-first-message (RFC 5802 §7), or returns null (never throws). */
export function parseClientFirst(msg: Buffer): ClientFirst | null {
  if (msg.length > MAX_RESPONSE_BYTES) return null;
  const text = decodeUtf8(msg);
  if (text === null || text.includes('\0')) return null;
  const parts = text.split(',');
  const [cbind, authzField, userField, nonceField, ...extensions] = parts;
  // gs2-cbind-flag: `n` (client does not support channel binding) or `y` (it does, but thinks we do
  // not: right, we advertise no -PLUS). `p=` asks for channel binding, which we do not offer.
  if (cbind !== 'n' && cbind !== 'y') return null;
  if (authzField === undefined || userField === undefined || nonceField === undefined) return null;
  let authzid = '';
  if (authzField !== '') {
    if (!authzField.startsWith('a=')) return null;
    const decoded = decodeSaslname(authzField.slice(2));
    const prepared = decoded === null ? null : saslprep(decoded);
    if (prepared === null || !validIdentity(prepared)) return null;
    authzid = prepared;
  }
  // reserved-mext (`m=`) before the user name MUST fail the exchange (RFC 5802 §5.1).
  if (!userField.startsWith('n=')) return null;
  const decodedUser = decodeSaslname(userField.slice(2));
  const login = decodedUser === null ? null : saslprep(decodedUser);
  if (login === null || !validIdentity(login)) return null;
  if (!nonceField.startsWith('r=')) return null;
  const clientNonce = nonceField.slice(2);
  if (!PRINTABLE.test(clientNonce)) return null;
  if (!extensions.every((e) => ATTR.test(e))) return null;
  return {
    gs2Header: `${cbind},${authzField},`,
    authzid,
    login,
    clientNonce,
    clientFirstBare: parts.slice(2).join(','),
  };
}

interface ClientFinal {
  /** The decoded c= value: must be the client's gs2 header (no channel binding data). */
  channelBinding: string;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

/** Parses client-final-message (RFC 5802 §7), or returns null (never throws). */
export function parseClientFinal(msg: Buffer): ClientFinal | null {
  if (msg.length > MAX_RESPONSE_BYTES) return null;
  const text = decodeUtf8(msg);
  if (text === null || text.includes('\0')) return null;
  const parts = text.split(',');
  if (parts.length < 3) return null;
  const [cField, rField] = parts;
  const pField = parts[parts.length - 1] ?? '';
  const extensions = parts.slice(2, -1);
  if (!cField?.startsWith('c=') || !rField?.startsWith('r=') || !pField.startsWith('p=')) return null;
  if (!extensions.every((e) => ATTR.test(e) && !e.startsWith('p='))) return null;
  const cb = cField.slice(2);
  const proof = pField.slice(2);
  const cbBytes = decodeBase64(cb);
  const proofBytes = decodeBase64(proof);
  if (!cbBytes || !proofBytes || proofBytes.length === 0) return null;
  const channelBinding = decodeUtf8(cbBytes);
  if (channelBinding === null) return null;
  return {
    channelBinding,
    nonce: rField.slice(2),
    proof: proofBytes,
    withoutProof: parts.slice(0, -1).join(','),
  };
}

/** Strict base64: only the canonical encoding (Buffer.from alone skips junk and ignores spare bits). */
function decodeBase64(s: string): Buffer | null {
  const buf = Buffer.from(s, 'base64');
  return buf.toString('base64') === s ? buf : null;
}

/** The server's nonce part: printable characters, drawn by rejection sampling from `random`. */
export function serverNonce(random: (n: number) => Buffer): string {
  let out = '';
  for (let round = 0; out.length < SCRAM_SERVER_NONCE_LENGTH; round++) {
    if (round > 1000) throw new Error('SCRAM: the random source returns no usable bytes');
    for (const b of random(SCRAM_SERVER_NONCE_LENGTH - out.length)) {
      if (b >= 0x21 && b <= 0x7e && b !== 0x2c) out += String.fromCharCode(b);
      if (out.length === SCRAM_SERVER_NONCE_LENGTH) break;
    }
  }
  return out;
}

/** The salt announced for an unknown user: HMAC(secret, user name), stable for a given secret. */
export function fakeSalt(secret: Buffer, login: string): Buffer {
  return createHmac('sha256', secret)
    .update(`scram-fake-salt\0${login}`)
    .digest()
    .subarray(0, SCRAM_FAKE_SALT_BYTES);
}

function fakeKey(secret: Buffer, kind: string, login: string): Buffer {
  return createHmac('sha256', secret).update(`scram-fake-${kind}-key\0${login}`).digest();
}
