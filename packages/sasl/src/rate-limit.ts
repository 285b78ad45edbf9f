/**
 * Failed-login rate limiting, per client address and per account, over a sliding window.
 *
 * - `check(address, account)` before verifying credentials: refused once the address has `maxPerAddress`
 *   failures in the window, or the account has `maxPerAccount` (from any address); `retryAfterMs` says
 *   when the oldest counting failure leaves the window.
 * - `fail(address, account)` after wrong credentials; `succeed(address, account)` after a good login
 *   forgives that address's failures on that account (typos), in both counters, and nothing else: an
 *   attacker cannot reset an address's count by logging in to an account of their own, nor can a
 *   successful login elsewhere reset an account others are guessing at.
 *
 * One account, many names: `bind(login, account)` records that a login name (an alias, the official
 * address, `username@domain`) names an account key (the appliance binds each resolved name to the
 * mailbox id), and from then on `check`, `fail` and `succeed` with that name count on the account's one
 * budget, whichever protocol and whichever name is used. A name never bound (unknown, or not resolved
 * yet) counts on its own, so unknown names are limited like real ones. `checkAccount(account)` checks the
 * account budget alone, for the credential store once it has resolved a name (`accountBudget`).
 *
 * Accounts are normalised (trimmed, lower-case). Addresses too, and IPv6 addresses count per /64 (one
 * customer's allocation; counting single addresses there would be no limit at all), IPv4-mapped IPv6
 * addresses as IPv4.
 *
 * The per-account limit lets anyone lock an account for one window by failing on purpose; that is the
 * usual trade-off against distributed guessing, and it lasts at most `windowMs`.
 *
 * Memory is bounded: each key keeps at most twice its limit of failures, failures older than the window
 * are dropped, and each map holds at most `maxKeys` keys, evicting the least recently failed first.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface LoginRateLimiterOptions {
  /** Failures allowed per client address in the window (default 10). */
  maxPerAddress: number;
  /** Failures allowed per account in the window, from all addresses (default 5). */
  maxPerAccount: number;
  /** The window, milliseconds (default 15 minutes). */
  windowMs: number;
  /** Keys kept per map (addresses, accounts) before the oldest are evicted (default 100 000). */
  maxKeys: number;
  /** The clock, milliseconds (default `Date.now`). */
  now: () => number;
  /**
   * Called when a failure starts an account's lockout (its budget just ran out), with the client address
   * and how long the lockout lasts: the appliance records it for the other regions (issue 14).
   */
  onAccountLocked?: (account: string, address: string, retryAfterMs: number) => void;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export const LOGIN_RATE_LIMIT_DEFAULTS: Readonly<Omit<LoginRateLimiterOptions, 'now' | 'onAccountLocked'>> =
  Object.freeze({
    maxPerAddress: 10,
    maxPerAccount: 5,
    windowMs: 15 * 60_000,
    maxKeys: 100_000,
  });

interface Failure {
  at: number;
  /** The other key: the account for an address entry, the address for an account entry. */
  peer: string;
}

/** Failures by key, in the map's order of last failure (oldest first). */
class FailureLog {
  private readonly entries = new Map<string, Failure[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** Milliseconds until `key` drops below its limit, or 0 when it is below already. */
  wait(key: string, now: number): number {
    const list = this.live(key, now);
    if (!list || list.length < this.limit) return 0;
    const oldestCounting = list[list.length - this.limit];
    return oldestCounting ? Math.max(1, oldestCounting.at + this.windowMs - now) : 0;
  }

  add(key: string, peer: string, now: number): void {
    const list = this.live(key, now) ?? [];
    list.push({ at: now, peer });
    if (list.length > this.limit * 2) list.splice(0, list.length - this.limit * 2);
    this.entries.delete(key);
    this.entries.set(key, list);
    this.prune(now);
  }

  forgive(key: string, peer: string, now: number): void {
    const list = this.live(key, now);
    if (!list) return;
    const kept = list.filter((f) => f.peer !== peer);
    if (kept.length === 0) this.entries.delete(key);
    else this.entries.set(key, kept);
  }

  /** The key's failures still in the window (dropping expired ones), or undefined. */
  private live(key: string, now: number): Failure[] | undefined {
    const list = this.entries.get(key);
    if (!list) return undefined;
    const first = list.findIndex((f) => now - f.at < this.windowMs);
    if (first === 0) return list;
    if (first < 0) {
      this.entries.delete(key);
      return undefined;
    }
    list.splice(0, first);
    return list;
  }

  /** Drops expired keys from the front (least recently failed), then evicts down to `maxKeys`. */
  private prune(now: number): void {
    for (const [key, list] of this.entries) {
      const last = list[list.length - 1];
      if (last && now - last.at < this.windowMs) break;
      this.entries.delete(key);
    }
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxKeys) break;
      this.entries.delete(key);
    }
  }
}

export class LoginRateLimiter {
  private readonly opts: LoginRateLimiterOptions;
  private readonly byAddress: FailureLog;
  private readonly byAccount: FailureLog;
  /** Normalised login name -> account key, least recently bound first (bounded by `maxKeys`). */
  private readonly bindings = new Map<string, string>();

  constructor(opts: Partial<LoginRateLimiterOptions> = {}) {
    this.opts = { ...LOGIN_RATE_LIMIT_DEFAULTS, now: Date.now, ...stripUndefined(opts) };
    const { maxPerAddress, maxPerAccount, windowMs, maxKeys } = this.opts;
    for (const [name, v] of Object.entries({ maxPerAddress, maxPerAccount, windowMs, maxKeys })) {
      if (!Number.isInteger(v) || v < 1)
        throw new RangeError(`LoginRateLimiter: ${name} must be a positive integer`);
    }
    this.byAddress = new FailureLog(maxPerAddress, windowMs, maxKeys);
    this.byAccount = new FailureLog(maxPerAccount, windowMs, maxKeys);
  }

  /**
   * Records that the login name `login` names the account `account` (e.g. `mailbox:<id>`): its failures
   * and checks count on the account from now on. Rebinding a name moves it (an alias given to another).
   */
  bind(login: string, account: string): void {
    const name = normalizeAccount(login);
    const key = normalizeAccount(account);
    if (name === '' || key === '') return;
    this.bindings.delete(name);
    this.bindings.set(name, key);
    for (const oldest of this.bindings.keys()) {
      if (this.bindings.size <= this.opts.maxKeys) break;
      this.bindings.delete(oldest);
    }
  }

  /** The account key a login name counts on: its binding, else the name itself (normalised). */
  accountOf(login: string): string {
    const name = normalizeAccount(login);
    return this.bindings.get(name) ?? name;
  }

  /** The account budget alone (no client address): refused while the account is locked. */
  checkAccount(account: string): RateLimitDecision {
    const wait = this.byAccount.wait(this.accountOf(account), this.opts.now());
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /** Call before verifying credentials. An empty account (not known yet) checks the address only. */
  check(address: string, account: string): RateLimitDecision {
    const now = this.opts.now();
    const acct = this.accountOf(account);
    const wait = Math.max(
      this.byAddress.wait(addressKey(address), now),
      acct === '' ? 0 : this.byAccount.wait(acct, now),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  /** Records a failed login (wrong credentials). */
  fail(address: string, account: string): void {
    const now = this.opts.now();
    const addr = addressKey(address);
    const acct = this.accountOf(account);
    this.byAddress.add(addr, acct, now);
    if (acct === '') return;
    const lockedBefore = this.byAccount.wait(acct, now) > 0;
    this.byAccount.add(acct, addr, now);
    const wait = this.byAccount.wait(acct, now);
    if (!lockedBefore && wait > 0) this.opts.onAccountLocked?.(acct, addr, wait);
  }

  /** Records a good login: forgets this address's failures on this account. */
  succeed(address: string, account: string): void {
    const now = this.opts.now();
    const addr = addressKey(address);
    const acct = this.accountOf(account);
    this.byAddress.forgive(addr, acct, now);
    if (acct !== '') this.byAccount.forgive(acct, addr, now);
  }

  /** Keys held, for tests and metrics. */
  get size(): { addresses: number; accounts: number } {
    return { addresses: this.byAddress.size, accounts: this.byAccount.size };
  }

  /** Login names bound to accounts, for tests and metrics. */
  get boundNames(): number {
    return this.bindings.size;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function normalizeAccount(account: string): string {
  return account.trim().toLowerCase();
}

/** The counting key of a client address: IPv4 as is, IPv6 by /64, anything else trimmed and lower-case. */
export function addressKey(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (isIPv4(a) || !isIPv6(a)) return a;
  const groups = expandIPv6(a);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 included). */
function expandIPv6(a: string): number[] {
  let text = a;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => Number.parseInt(g, 16));
}
