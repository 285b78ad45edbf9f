/**
 * The directory as the shared credential store of SMTP submission, IMAP and POP3 (`@delegato/sasl`).
 * Removed and expired mailboxes, and mailboxes without a password, never authenticate. With the shared
 * limiter, every name of a mailbox counts on the mailbox's one failed-login budget (`accountBudget`).
 */
import { type Directory, mailboxAccountKey } from '@delegato/directory';
import { type Logger, logEventAt } from '@delegato/observability';
import { accountBudget, type CredentialStore, type LoginRateLimiter } from '@delegato/sasl';

export function directoryCredentials(directory: Directory, limiter?: LoginRateLimiter): CredentialStore {
  const store = plainDirectoryCredentials(directory);
  if (!limiter) return store;
  const accountOf = async (login: string) => {
    const mb = await directory.resolveLogin(login);
    return mb ? mailboxAccountKey(mb.id) : null;
  };
  // A lockout recorded by another region (`shareLockouts` there) holds here too.
  const lockedElsewhere = async (account: string) => (await directory.lockedUntil(account)) !== null;
  return accountBudget(store, { accountOf, lockedElsewhere }, limiter);
}

/**
 * The limiter's `onAccountLocked`: a mailbox whose failed-login budget ran out here is recorded as locked
 * in the directory (`auth.lockout` with the account and its end, forwarded to the writer when federated),
 * so that every region refuses its logins until then, and its domain's admins see it in the audit log.
 * Best effort: a writer out of reach leaves the lockout to this region's limiter (logged at warn).
 */
export function shareLockouts(
  directory: Directory,
  logger: Logger,
): (account: string, address: string, retryAfterMs: number) => void {
  return (account, address, retryAfterMs) => {
    const id = account.startsWith('mailbox:') ? account.slice('mailbox:'.length) : null;
    const dir = directory;
    if (id === null) return;
    const until = new Date(Date.now() + retryAfterMs).toISOString();
    void (async () => {
      // Account keys are lower-case (`mailboxAccountKey`); mailbox ids are ULIDs, upper-case.
      const mb = await dir.mailboxById(id.toUpperCase());
      if (!mb) return;
      const fields = {
        mailbox: mb.address,
        client: address,
        retryAfterSeconds: Math.ceil(retryAfterMs / 1000),
      };
      try {
        await dir.recordAuthEvent({
          action: 'auth.lockout',
          actor: 'anonymous',
          from: address,
          target: mb.address,
          domain: mb.address.slice(mb.address.lastIndexOf('@') + 1),
          details: { account, until, via: 'mail' },
        });
        logEventAt(logger, 'warn', 'auth.lockout', { ...fields, shared: true });
      } catch (err) {
        logEventAt(logger, 'warn', 'auth.lockout', {
          ...fields,
          shared: false,
          err: err instanceof Error ? err.message : String(err),
        });
      }
    })();
  };
}

function plainDirectoryCredentials(directory: Directory): CredentialStore {
  return {
    async verifyPassword(login, password) {
      const ok = await directory.authenticateMailbox(login, password);
      return ok ? { id: ok.mailboxId, address: ok.address } : null;
    },
    async cramSecret(login) {
      const mb = await directory.resolveLogin(login);
      if (!mb) return null;
      const secret = directory.cramSecretOf(mb);
      return secret === null ? null : { user: { id: mb.id, address: mb.address }, secret };
    },
    async scramKeys(login) {
      const mb = await directory.resolveLogin(login);
      if (!mb || !directory.mayLogIn(mb) || !mb.scramSalt || !mb.scramStoredKey || !mb.scramServerKey)
        return null;
      return {
        user: { id: mb.id, address: mb.address },
        salt: Buffer.from(mb.scramSalt, 'base64'),
        iterations: mb.scramIterations ?? 4096,
        storedKey: Buffer.from(mb.scramStoredKey, 'base64'),
        serverKey: Buffer.from(mb.scramServerKey, 'base64'),
      };
    },
  };
}
