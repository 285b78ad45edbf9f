/**
 * Failed sign-ins, counted per client address and per account name over a sliding window. The shape
 * is the one of `LoginRateLimiter` in `@delegato/sasl`, so the appliance can pass its shared limiter
 * (a password guessed over the web then counts with the guesses over IMAP, POP3 and SMTP); this small
 * one is the default when it does not.
 *
 * The per-account limit lets anyone lock an account for one window by failing on purpose: the usual
 * trade-off against guessing from many addresses; it lasts at most the window.
 */
export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

export interface LoginLimiter {
  /**
   * Records that the login name `login` names the account `account` (every name of a mailbox is bound
   * to `mailboxAccountKey(id)`), so that all its names share one budget with IMAP, POP3 and SMTP.
   */
  bind(login: string, account: string): void;
  /** Before checking a password. */
  check(address: string, account: string): RateLimitDecision;
  /** After a wrong password or code. */
  fail(address: string, account: string): void;
  /** After a right one: forgives this address's failures on this account. */
  succeed(address: string, account: string): void;
}

export interface SimpleLimiterOptions {
  maxPerAddress: number;
  maxPerAccount: number;
  windowMs: number;
  maxKeys: number;
  now: () => number;
}

export class SimpleLoginLimiter implements LoginLimiter {
  readonly #o: SimpleLimiterOptions;
  readonly #byAddress = new Map<string, Array<{ at: number; peer: string }>>();
  readonly #byAccount = new Map<string, Array<{ at: number; peer: string }>>();
  readonly #bindings = new Map<string, string>();

  constructor(opts: Partial<SimpleLimiterOptions> = {}) {
    this.#o = {
      maxPerAddress: 10,
      maxPerAccount: 5,
      windowMs: 15 * 60_000,
      maxKeys: 100_000,
      now: Date.now,
      ...opts,
    };
  }

  #live(map: Map<string, Array<{ at: number; peer: string }>>, key: string, now: number) {
    const list = (map.get(key) ?? []).filter((f) => now - f.at < this.#o.windowMs);
    if (list.length === 0) map.delete(key);
    else map.set(key, list);
    return list;
  }

  #wait(map: Map<string, Array<{ at: number; peer: string }>>, key: string, limit: number, now: number) {
    const list = this.#live(map, key, now);
    if (list.length < limit) return 0;
    const oldestCounting = list[list.length - limit];
    return oldestCounting ? Math.max(1, oldestCounting.at + this.#o.windowMs - now) : 0;
  }

  bind(login: string, account: string): void {
    const name = login.trim().toLowerCase();
    this.#bindings.delete(name);
    this.#bindings.set(name, account.trim().toLowerCase());
    if (this.#bindings.size > this.#o.maxKeys)
      this.#bindings.delete(this.#bindings.keys().next().value ?? '');
  }

  #account(login: string): string {
    const name = login.trim().toLowerCase();
    return this.#bindings.get(name) ?? name;
  }

  check(address: string, account: string): RateLimitDecision {
    const now = this.#o.now();
    const acct = this.#account(account);
    const wait = Math.max(
      this.#wait(this.#byAddress, address, this.#o.maxPerAddress, now),
      acct === '' ? 0 : this.#wait(this.#byAccount, acct, this.#o.maxPerAccount, now),
    );
    return wait > 0 ? { allowed: false, retryAfterMs: wait } : { allowed: true };
  }

  fail(address: string, account: string): void {
    const now = this.#o.now();
    const acct = this.#account(account);
    this.#add(this.#byAddress, address, acct, now);
    if (acct !== '') this.#add(this.#byAccount, acct, address, now);
  }

  succeed(address: string, account: string): void {
    const now = this.#o.now();
    const acct = this.#account(account);
    const forgive = (map: Map<string, Array<{ at: number; peer: string }>>, key: string, peer: string) => {
      const kept = this.#live(map, key, now).filter((f) => f.peer !== peer);
      if (kept.length === 0) map.delete(key);
      else map.set(key, kept);
    };
    forgive(this.#byAddress, address, acct);
    if (acct !== '') forgive(this.#byAccount, acct, address);
  }

  #add(map: Map<string, Array<{ at: number; peer: string }>>, key: string, peer: string, now: number) {
    const list = this.#live(map, key, now);
    list.push({ at: now, peer });
    map.delete(key);
    map.set(key, list.slice(-2 * Math.max(this.#o.maxPerAddress, this.#o.maxPerAccount)));
    while (map.size > this.#o.maxKeys) {
      const oldest = map.keys().next().value;
      if (oldest === undefined) break;
      map.delete(oldest);
    }
  }
}

/**
 * The limiter key of an admin's second factor. Wrong TOTP codes count here, on a budget of their own
 * that a right password does not forgive (signing in with the password used to reset the count, so
 * "password, four wrong codes" could be repeated for ever); the per-address budget counts them too.
 */
export function secondFactorKey(username: string): string {
  return `totp\u0000${username.trim().toLowerCase()}`;
}

/**
 * Before a sign-in step of `username`: refused while the name's budget or its second factor's is spent
 * (a second factor locked by wrong codes locks the account's password step too), or the address's.
 */
export function checkSignIn(limiter: LoginLimiter, address: string, username: string): RateLimitDecision {
  const first = limiter.check(address, username);
  const second = limiter.check(address, secondFactorKey(username));
  if (first.allowed && second.allowed) return first;
  const wait = (d: RateLimitDecision) => (d.allowed ? 0 : d.retryAfterMs);
  return { allowed: false, retryAfterMs: Math.max(wait(first), wait(second)) };
}
