/**
 * Sender Rewriting Scheme (SRS, Shevek 2004; the libsrs2 / postsrsd format), so that SPF at the target of a
 * forward or a list expansion checks our domain instead of the original sender's, and bounces still find
 * their way back.
 *
 *   forward   alice@example.org          → SRS0=HHHH=TT=example.org=alice@our.domain
 *   forward   SRS0=HHHH=TT=d=l@fwd1.net  → SRS1=HHHH=fwd1.net==HHHH=TT=d=l@our.domain   (a forward of a forward)
 *   reverse   SRS0=...@our.domain        → alice@example.org   (hash and age checked)
 *   reverse   SRS1=...@our.domain        → SRS0=...@fwd1.net   (hash checked)
 *
 * HHHH: the first 4 characters of base64(HMAC-SHA1(secret, lowercase(data))), compared case-insensitively
 * (some MTAs lowercase local parts). TT: days since the epoch mod 1024, two base32 characters. The null
 * reverse-path is never rewritten.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const TIME_SLOTS = 1024;
const DAY_MS = 86_400_000;
const HASH_LENGTH = 4;
/** libsrs2's default maximum age of a reversible address. */
export const SRS_DEFAULT_MAX_AGE_DAYS = 21;

export interface SrsForwardOptions {
  secret: Buffer | string;
  /** Our domain: the rewritten address is `SRS0=...@domain`. */
  domain: string;
  now?: Date;
}

export interface SrsReverseOptions {
  /** The secret, or several (the current one first) while a secret is being rotated. */
  secret: Buffer | string | Array<Buffer | string>;
  maxAgeDays?: number;
  now?: Date;
}

function hash(secret: Buffer | string, ...data: string[]): string {
  const h = createHmac('sha1', secret);
  for (const d of data) h.update(d.toLowerCase(), 'utf8');
  return h.digest('base64').slice(0, HASH_LENGTH);
}

function hashMatches(secrets: Array<Buffer | string>, given: string, ...data: string[]): boolean {
  const got = Buffer.from(given.toLowerCase());
  return secrets.some((s) => {
    const want = Buffer.from(hash(s, ...data).toLowerCase());
    return want.length === got.length && timingSafeEqual(want, got);
  });
}

function timestamp(now: Date): string {
  const t = Math.floor(now.getTime() / DAY_MS) % TIME_SLOTS;
  return `${BASE32[(t >> 5) & 31]}${BASE32[t & 31]}`;
}

function splitAddress(address: string): { local: string; domain: string } | null {
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { local: address.slice(0, at), domain: address.slice(at + 1) };
}

const SRS0 = /^SRS0[=+-]([^=]+)=([^=]{2})=([^=]+)=(.+)$/i;
const SRS1 = /^SRS1[=+-]([^=]+)=([^=]+)=(.+)$/i;

/** Whether `address` is an SRS address (SRS0 or SRS1), whatever its domain. */
export function isSrsAddress(address: string): boolean {
  const parts = splitAddress(address);
  return parts !== null && /^SRS[01][=+-]/i.test(parts.local);
}

/**
 * The reverse-path to use when forwarding mail from `sender`. The null sender stays null; an address in our
 * own domain, or one without a domain, is kept as it is.
 */
export function srsForward(sender: string, opts: SrsForwardOptions): string {
  if (sender === '') return '';
  const parts = splitAddress(sender);
  if (!parts) return sender;
  const ours = opts.domain.toLowerCase();
  if (parts.domain.toLowerCase() === ours) return sender;
  const srs1 = SRS1.exec(parts.local);
  if (srs1) {
    // A forward of a forward of a forward: keep the first forwarder, re-sign (libsrs2 srs_forward).
    const [, , host = '', user = ''] = srs1;
    return `SRS1=${hash(opts.secret, host, user)}=${host}=${user}@${opts.domain}`;
  }
  if (/^SRS0[=+-]/i.test(parts.local)) {
    const user = parts.local.slice(4);
    return `SRS1=${hash(opts.secret, parts.domain, user)}=${parts.domain}=${user}@${opts.domain}`;
  }
  const tt = timestamp(opts.now ?? new Date());
  return `SRS0=${hash(opts.secret, tt, parts.domain, parts.local)}=${tt}=${parts.domain}=${parts.local}@${opts.domain}`;
}

/**
 * The address an SRS address (a bounce's recipient) stands for, or null when it is not an SRS address, its
 * hash is wrong, or (SRS0) it is older than `maxAgeDays` or from the future.
 */
export function srsReverse(address: string, opts: SrsReverseOptions): string | null {
  const parts = splitAddress(address);
  if (!parts) return null;
  const secrets = Array.isArray(opts.secret) ? opts.secret : [opts.secret];
  const srs0 = SRS0.exec(parts.local);
  if (srs0) {
    const [, given = '', tt = '', domain = '', local = ''] = srs0;
    if (!hashMatches(secrets, given, tt, domain, local)) return null;
    const hi = BASE32.indexOf((tt[0] ?? '').toUpperCase());
    const lo = BASE32.indexOf((tt[1] ?? '').toUpperCase());
    if (hi < 0 || lo < 0) return null;
    const then = (hi << 5) | lo;
    const today = Math.floor((opts.now ?? new Date()).getTime() / DAY_MS) % TIME_SLOTS;
    const age = (today - then + TIME_SLOTS) % TIME_SLOTS;
    if (age > (opts.maxAgeDays ?? SRS_DEFAULT_MAX_AGE_DAYS)) return null;
    return `${local}@${domain}`;
  }
  const srs1 = SRS1.exec(parts.local);
  if (srs1) {
    const [, given = '', host = '', user = ''] = srs1;
    if (!hashMatches(secrets, given, host, user)) return null;
    return `SRS0${user}@${host}`;
  }
  return null;
}
