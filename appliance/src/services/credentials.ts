/**
 * The directory as the shared credential store of SMTP submission, IMAP and POP3 (`@delegato/sasl`).
 * Removed and expired mailboxes, and mailboxes without a password, never authenticate. With the shared
 * limiter, every name of a mailbox counts on the mailbox's one failed-login budget (`accountBudget`).
 */
import { type Directory, mailboxAccountKey } from '@delegato/directory';
import { accountBudget, type CredentialStore, type LoginRateLimiter } from '@delegato/sasl';

export function directoryCredentials(directory: Directory, limiter?: LoginRateLimiter): CredentialStore {
  const store = plainDirectoryCredentials(directory);
  if (!limiter) return store;
  const accountOf = async (login: string) => {
    const mb = await directory.resolveLogin(login);
    return mb ? mailboxAccountKey(mb.id) : null;
  };
  return accountBudget(store, { accountOf }, limiter);
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
