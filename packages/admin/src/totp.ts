/**
 * Two-step sign-in for administrators: TOTP (RFC 6238, 30-second steps, 6 digits, SHA-1: what every
 * authenticator app understands), with `otpauth`.
 *
 * The secrets live in a `TotpStore`: `DirectoryTotpStore` (the default: the directory's `admins` table,
 * sealed with the federation key, so an admin's second factor works in every region, and every change is
 * audited), or `MemoryTotpStore`. `FileTotpStore` is the former store (a 0600 JSON file in the data dir);
 * `importTotpFile` moves its secrets into the directory once.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Actor, Directory } from '@delegato/directory';
import { Secret, TOTP } from 'otpauth';

export interface TotpStore {
  /** The admin's secret (base32), or null when they have none. */
  get(username: string): Promise<string | null>;
  /** Sets (or with null, removes) the admin's secret; `actor` is who does it (for the audit log). */
  set(username: string, secret: string | null, actor: Actor): Promise<void>;
}

/** The directory's `admins.totp_secret`, sealed with the federation key (replicated). */
export class DirectoryTotpStore implements TotpStore {
  constructor(private readonly directory: Directory) {}
  get(username: string): Promise<string | null> {
    return this.directory.adminTotpSecret(username);
  }
  set(username: string, secret: string | null, actor: Actor): Promise<void> {
    return this.directory.setAdminTotpSecret(actor, username, secret);
  }
}

export class MemoryTotpStore implements TotpStore {
  readonly #secrets = new Map<string, string>();
  async get(username: string): Promise<string | null> {
    return this.#secrets.get(username.toLowerCase()) ?? null;
  }
  async set(username: string, secret: string | null, _actor?: Actor): Promise<void> {
    if (secret === null) this.#secrets.delete(username.toLowerCase());
    else this.#secrets.set(username.toLowerCase(), secret);
  }
}

/** Something that seals and opens secrets (the directory's `FederationKey` fits). */
export interface SecretSealer {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}

/** Secrets in a JSON file, each sealed; written atomically (temp file + rename), mode 0600. */
export class FileTotpStore implements TotpStore {
  constructor(
    private readonly file: string,
    private readonly key: SecretSealer,
  ) {}

  #read(): Record<string, string> {
    if (!existsSync(this.file)) return {};
    return JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>;
  }

  async get(username: string): Promise<string | null> {
    const sealed = this.#read()[username.toLowerCase()];
    return sealed ? this.key.decrypt(sealed) : null;
  }

  async set(username: string, secret: string | null, _actor?: Actor): Promise<void> {
    const all = this.#read();
    if (secret === null) delete all[username.toLowerCase()];
    else all[username.toLowerCase()] = this.key.encrypt(secret);
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
    chmodSync(this.file, 0o600);
  }
}

/**
 * Moves the secrets of a former `FileTotpStore` file into the directory, once: an admin who has no
 * secret in the directory yet gets the file's; admins no longer in the directory are skipped. The file
 * is then renamed `<file>.imported` (kept, sealed, for the operator to delete). Returns the admins
 * imported; nothing when the file does not exist.
 */
export async function importTotpFile(
  file: string,
  key: SecretSealer,
  directory: Directory,
  actor: Actor,
): Promise<string[]> {
  if (!existsSync(file)) return [];
  const old = new FileTotpStore(file, key);
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const imported: string[] = [];
  for (const username of Object.keys(all)) {
    const secret = await old.get(username);
    if (!secret || (await directory.adminTotpSecret(username)) !== null) continue;
    try {
      await directory.setAdminTotpSecret(actor, username, secret);
      imported.push(username);
    } catch (err) {
      if ((err as { code?: string }).code !== 'not-found') throw err;
    }
  }
  renameSync(file, `${file}.imported`);
  return imported;
}

export const TOTP_PERIOD = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totpFor(secret: string, label: string, issuer: string): TOTP {
  return new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD,
  });
}

/** The `otpauth://` URI an authenticator app reads (typed in, or from a QR code made elsewhere). */
export function totpUri(secret: string, label: string, issuer = 'Delegato'): string {
  return totpFor(secret, label, issuer).toString();
}

/** The current code (for tests and for showing nothing else). */
export function totpCode(secret: string, at: Date): string {
  return totpFor(secret, 'x', 'Delegato').generate({ timestamp: at.getTime() });
}

/**
 * Checks a code, allowing one step of clock drift either way. Returns the time step it matched (to refuse
 * the same code twice), or null.
 */
export function verifyTotp(secret: string, code: string, at: Date): number | null {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return null;
  const delta = totpFor(secret, 'x', 'Delegato').validate({ token, timestamp: at.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD) + delta;
}

/** The last time step used per admin: a code works once (RFC 6238 §5.2). */
export class TotpReplayGuard {
  readonly #last = new Map<string, number>();
  accept(username: string, step: number): boolean {
    const key = username.toLowerCase();
    const last = this.#last.get(key);
    if (last !== undefined && step <= last) return false;
    this.#last.set(key, step);
    return true;
  }
}
