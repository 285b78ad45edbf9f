/**
 * Helpers shared by the mechanisms: strict UTF-8 decoding, identity checks, the failure steps, and the
 * context every session gets from `createSaslSession`.
 */
import type { LoginRateLimiter } from './rate-limit.js';
import type { CredentialStore, SaslStep } from './types.js';

/** Longest authentication identity we look up, in bytes (an address is at most 254). */
export const MAX_IDENTITY_BYTES = 1024;
/** Longest password, in bytes (the directory allows 1024 characters, up to 4 bytes each in UTF-8). */
export const MAX_PASSWORD_BYTES = 4096;
/** Longest single client response any mechanism accepts, in bytes. */
export const MAX_RESPONSE_BYTES = 8192;

/** What a mechanism needs from the server: filled in by `createSaslSession`. */
export interface MechanismContext {
  store: CredentialStore;
  hostname: string;
  random: (n: number) => Buffer;
  now: () => Date;
  /** Server secret for SCRAM fake salts and keys (unknown users). */
  secret: Buffer;
  /** Iteration count announced to unknown users (SCRAM). */
  fakeScramIterations: number;
  gate: LoginGate;
}

/** The rate-limiting hooks a mechanism calls once it knows the claimed login. */
export interface LoginGate {
  /** Milliseconds to wait when the attempt must be refused, else null. */
  check(login: string): number | null;
  fail(login: string): void;
  succeed(login: string): void;
}

export const OPEN_GATE: LoginGate = {
  check: () => null,
  fail: () => {},
  succeed: () => {},
};

export function gateFor(limiter: LoginRateLimiter, address: string): LoginGate {
  return {
    check(login) {
      const d = limiter.check(address, login);
      return d.allowed ? null : d.retryAfterMs;
    },
    fail: (login) => limiter.fail(address, login),
    succeed: (login) => limiter.succeed(address, login),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes well-formed UTF-8, or returns null (never throws). */
export function decodeUtf8(buf: Uint8Array): string | null {
  try {
    return utf8.decode(buf);
  } catch {
    return null;
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A login name we are willing to look up: non-empty, bounded, no control characters. */
export function validIdentity(s: string): boolean {
  return s.length > 0 && Buffer.byteLength(s) <= MAX_IDENTITY_BYTES && !CONTROL.test(s);
}

export function malformed(login?: string): SaslStep {
  return login === undefined
    ? { kind: 'failure', reason: 'malformed' }
    : { kind: 'failure', reason: 'malformed', login };
}

export function badCredentials(login: string): SaslStep {
  return { kind: 'failure', reason: 'credentials', login };
}

export function throttled(login: string, retryAfterMs: number): SaslStep {
  return { kind: 'failure', reason: 'credentials', login, retryAfterMs };
}

/**
 * Whether a non-empty authorization identity names the authenticated user itself: the claimed login or
 * the official address, compared case-insensitively. Acting as another user is never allowed.
 */
export function authzidMatches(authzid: string, login: string, address: string): boolean {
  const z = authzid.toLowerCase();
  return z === login.toLowerCase() || z === address.toLowerCase();
}
