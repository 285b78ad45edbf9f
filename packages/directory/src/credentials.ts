/**
 * Mailbox and admin credentials.
 *
 * - argon2id hashes for password checks (PLAIN, LOGIN, USER/PASS, the web UI);
 * - SCRAM-SHA-256 keys (RFC 5802 §3, RFC 7677): StoredKey and ServerKey, never the password;
 * - CRAM-MD5 (RFC 2195) needs a password-equivalent secret: it is stored encrypted with the
 *   federation-wide key (AES-256-GCM) so every region can use it, and not at all when CRAM-MD5 is off.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import argon2 from 'argon2';
import { invalid } from './errors.js';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;
export const SCRAM_ITERATIONS = 4096; // RFC 7677 §4: at least 4096

export interface StoredCredentials {
  passwordHash: string;
  scramSalt: string;
  scramIterations: number;
  scramStoredKey: string;
  scramServerKey: string;
  cramSecret: string | null;
}

export function checkPasswordPolicy(password: string): void {
  if (password.length < PASSWORD_MIN_LENGTH) {
    throw invalid(`password too short: at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH)
    throw invalid(`password too long: at most ${PASSWORD_MAX_LENGTH}`);
  if (/[\r\n\0]/.test(password)) throw invalid('password must not contain line breaks or NUL');
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | null = null;

/** Computes the throwaway hash `verifyWithoutAccount` checks against (once per process; call early). */
export function primeDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(24).toString('base64'));
  return dummyHash;
}

/**
 * One argon2 verification against a throwaway hash, for a name that has no hash to check (no such
 * admin or mailbox, a removed or expired one): a wrong name then costs what a wrong password costs, so
 * the answer's timing does not tell which names exist. Always false.
 */
export async function verifyWithoutAccount(password: string): Promise<false> {
  await verifyPassword(await primeDummyHash(), password);
  return false;
}

/** SCRAM-SHA-256 keys (RFC 5802 §3): SaltedPassword = Hi(password, salt, i). */
export function scramKeys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { storedKey: storedKey.toString('base64'), serverKey: serverKey.toString('base64') };
}

/** The federation-wide key that encrypts secrets every region must be able to use. */
export class FederationKey {
  private constructor(private readonly key: Buffer) {}

  static fromBytes(key: Buffer): FederationKey {
    if (key.length !== 32) throw new Error('federation key must be 32 bytes');
    return new FederationKey(key);
  }

  /** Reads the key file (base64), creating it (mode 0600) when a standalone appliance has none yet. */
  static loadOrCreate(file: string): FederationKey {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    return FederationKey.fromBytes(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64'));
  }

  /** A subkey for one purpose (SRS, SCRAM fake salts), the same in every region: HMAC-SHA-256(key, label). */
  derive(label: string): Buffer {
    return createHmac('sha256', this.key).update(`delegato:${label}`).digest();
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      body.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string): string {
    const [v, iv, tag, body] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || !body) throw new Error('unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
  }
}

/** Everything stored for a mailbox password. */
export async function deriveCredentials(
  password: string,
  opts: { key: FederationKey; cramMd5: boolean },
): Promise<StoredCredentials> {
  checkPasswordPolicy(password);
  const salt = randomBytes(16);
  const { storedKey, serverKey } = scramKeys(password, salt, SCRAM_ITERATIONS);
  return {
    passwordHash: await hashPassword(password),
    scramSalt: salt.toString('base64'),
    scramIterations: SCRAM_ITERATIONS,
    scramStoredKey: storedKey,
    scramServerKey: serverKey,
    cramSecret: opts.cramMd5 ? opts.key.encrypt(password) : null,
  };
}

/** A random password for a new mailbox (printed once): 20 characters from an unambiguous alphabet. */
export function randomPassword(length = 20): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
