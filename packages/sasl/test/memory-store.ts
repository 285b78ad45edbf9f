/**
 * A real in-memory CredentialStore for the tests: SCRAM keys derived from the password exactly as
 * RFC 5802 §3 says and as the directory does (PBKDF2-HMAC-SHA-256 over the NFKC password).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthenticatedUser, CredentialStore } from '../src/types.js';

export interface TestAccount {
  login: string;
  password: string;
  address?: string;
  salt?: Buffer;
  iterations?: number;
  /** Store a CRAM-MD5 secret (default true). */
  cram?: boolean;
  /** The account exists but may not log in. */
  disabled?: boolean;
}

interface Entry {
  user: AuthenticatedUser;
  password: string;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
  cram: boolean;
  disabled: boolean;
}

export function deriveScramKeys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { salted, clientKey, storedKey, serverKey };
}

export class MemoryCredentialStore implements CredentialStore {
  private readonly accounts = new Map<string, Entry>();
  readonly calls: string[] = [];

  constructor(accounts: TestAccount[] = []) {
    for (const a of accounts) this.add(a);
  }

  add(a: TestAccount): this {
    const salt = a.salt ?? randomBytes(16);
    const iterations = a.iterations ?? 4096;
    const { storedKey, serverKey } = deriveScramKeys(a.password, salt, iterations);
    this.accounts.set(a.login.toLowerCase(), {
      user: { id: `id-${a.login}`, address: a.address ?? a.login },
      password: a.password,
      salt,
      iterations,
      storedKey,
      serverKey,
      cram: a.cram ?? true,
      disabled: a.disabled ?? false,
    });
    return this;
  }

  private find(login: string): Entry | null {
    const e = this.accounts.get(login.toLowerCase());
    return e && !e.disabled ? e : null;
  }

  async verifyPassword(login: string, password: string): Promise<AuthenticatedUser | null> {
    this.calls.push(`verifyPassword:${login}`);
    const e = this.find(login);
    const a = Buffer.from(password);
    const b = Buffer.from(e?.password ?? '');
    const equal = a.length === b.length && timingSafeEqual(a, b);
    return e && equal ? e.user : null;
  }

  async cramSecret(login: string) {
    this.calls.push(`cramSecret:${login}`);
    const e = this.find(login);
    return e?.cram ? { user: e.user, secret: e.password } : null;
  }

  async scramKeys(login: string) {
    this.calls.push(`scramKeys:${login}`);
    const e = this.find(login);
    return e
      ? {
          user: e.user,
          salt: e.salt,
          iterations: e.iterations,
          storedKey: e.storedKey,
          serverKey: e.serverKey,
        }
      : null;
  }
}

/** A `random` that hands out the given bytes first, then real randomness. */
export function scriptedRandom(...chunks: Buffer[]): (n: number) => Buffer {
  const queue = [...chunks];
  return (n) => {
    const next = queue.shift();
    return next ?? randomBytes(n);
  };
}
