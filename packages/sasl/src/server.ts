/**
 * The server side of SASL: `createSaslSession` builds one exchange for a mechanism, `supportedMechanisms`
 * lists what to advertise, `parseMechanismName` maps a client's mechanism name to ours.
 */
import { randomBytes } from 'node:crypto';
import { CramMd5Session } from './mechanisms/cram-md5.js';
import { LoginSession } from './mechanisms/login.js';
import { PlainSession } from './mechanisms/plain.js';
import { ScramSha256Session } from './mechanisms/scram-sha-256.js';
import type { LoginRateLimiter } from './rate-limit.js';
import type { CredentialStore, SaslMechanismName, SaslSession } from './types.js';
import { gateFor, type MechanismContext, OPEN_GATE } from './util.js';

export interface SaslServerOptions {
  store: CredentialStore;
  /** The server's host name, in CRAM-MD5 challenges. */
  hostname: string;
  /** Random bytes (default `crypto.randomBytes`): CRAM-MD5 challenges, SCRAM server nonces. */
  random?: (n: number) => Buffer;
  /** The clock (default `new Date()`): CRAM-MD5 challenge timestamps. */
  now?: () => Date;
  /**
   * Secret behind the fake SCRAM salts of unknown users (RFC 5802 §5.1). Pass a stable one (e.g. derived
   * from the federation key) so a fake salt stays the same across restarts and regions, as a real one
   * does. Default: random, once per process.
   */
  secret?: Buffer;
  /** Iteration count announced to unknown SCRAM users (default 4096, what the directory uses). */
  fakeScramIterations?: number;
  /**
   * Rate limiting: the session checks `limiter` with the client address and the claimed login before
   * looking up credentials, and records the outcome. A refused attempt fails with `retryAfterMs` set.
   */
  rateLimit?: { limiter: LoginRateLimiter; address: string };
}

export const MECHANISMS: readonly SaslMechanismName[] = ['SCRAM-SHA-256', 'CRAM-MD5', 'PLAIN', 'LOGIN'];

const processSecret = randomBytes(32);

/** Starts one server-side exchange. Throws only for a mechanism name outside `SaslMechanismName`. */
export function createSaslSession(name: SaslMechanismName, opts: SaslServerOptions): SaslSession {
  const ctx: MechanismContext = {
    store: opts.store,
    hostname: opts.hostname,
    random: opts.random ?? randomBytes,
    now: opts.now ?? (() => new Date()),
    secret: opts.secret ?? processSecret,
    fakeScramIterations: opts.fakeScramIterations ?? 4096,
    gate: opts.rateLimit ? gateFor(opts.rateLimit.limiter, opts.rateLimit.address) : OPEN_GATE,
  };
  switch (name) {
    case 'PLAIN':
      return new PlainSession(ctx);
    case 'LOGIN':
      return new LoginSession(ctx);
    case 'CRAM-MD5':
      return new CramMd5Session(ctx);
    case 'SCRAM-SHA-256':
      return new ScramSha256Session(ctx);
    default:
      throw new Error(`unknown SASL mechanism: ${String(name)}`);
  }
}

/**
 * The mechanisms to advertise, strongest first. CRAM-MD5 needs the directory's stored CRAM secrets;
 * whether PLAIN and LOGIN may be offered before TLS is the protocol layer's decision.
 */
export function supportedMechanisms(opts: { cramMd5: boolean; scram: boolean }): SaslMechanismName[] {
  return MECHANISMS.filter(
    (m) => (m !== 'CRAM-MD5' || opts.cramMd5) && (m !== 'SCRAM-SHA-256' || opts.scram),
  );
}

/** A client's mechanism name (case-insensitive, RFC 4422 §3.1) as ours, or null when we do not know it. */
export function parseMechanismName(name: string): SaslMechanismName | null {
  const upper = name.trim().toUpperCase();
  return MECHANISMS.find((m) => m === upper) ?? null;
}
