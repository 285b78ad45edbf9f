/**
 * One failed-login budget per account, whichever of its names is typed. A mailbox is reached by its
 * official address, its generated aliases (`f.last@`, `last@`) and `username@domain`; counting typed
 * names gave each of them a budget of its own (five guesses on the official address, then five more on
 * every alias). The protocols check the limiter with the typed name before the store is consulted;
 * this wrapper, around the store, resolves the name, binds it to the account in the limiter (so the
 * next check with that name already counts on the account) and refuses while the account is locked.
 *
 * A locked account answers like a wrong password and costs the same: PLAIN, LOGIN and USER/PASS still
 * verify (and ignore the result), SCRAM gets the real salt and a key no proof matches, CRAM-MD5 a
 * throwaway secret. Names that resolve to nothing are not bound: they keep their own budget, so unknown
 * names are limited like real ones and the limiter's answers do not tell them apart.
 */
import { randomBytes } from 'node:crypto';
import type { LoginRateLimiter } from './rate-limit.js';
import type { CredentialStore } from './types.js';

export interface AccountResolver {
  /** The account key a login name names (the same key for every name of it), or null. */
  accountOf(login: string): Promise<string | null>;
  /** Whether the account is locked by another region (a lockout recorded in the directory). */
  lockedElsewhere?(account: string): Promise<boolean>;
}

export function accountBudget(
  store: CredentialStore,
  resolver: AccountResolver,
  limiter: LoginRateLimiter,
): CredentialStore {
  const locked = async (login: string): Promise<boolean> => {
    const account = await resolver.accountOf(login);
    if (account === null) return false;
    limiter.bind(login, account);
    if (!limiter.checkAccount(account).allowed) return true;
    return (await resolver.lockedElsewhere?.(account)) ?? false;
  };
  return {
    async verifyPassword(login, password) {
      if (!(await locked(login))) return store.verifyPassword(login, password);
      await store.verifyPassword(login, password);
      return null;
    },
    async cramSecret(login) {
      const isLocked = await locked(login);
      const found = await store.cramSecret(login);
      if (!found || !isLocked) return found;
      return { user: found.user, secret: randomBytes(32).toString('base64') };
    },
    async scramKeys(login) {
      const isLocked = await locked(login);
      const keys = await store.scramKeys(login);
      if (!keys || !isLocked) return keys;
      return { ...keys, storedKey: randomBytes(32), serverKey: randomBytes(32) };
    },
  };
}
