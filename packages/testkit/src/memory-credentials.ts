/**
 * An in-memory `CredentialStore` over a fixed list of test accounts: plain password comparisons, the
 * password as CRAM-MD5 secret, and real SCRAM-SHA-256 keys derived with PBKDF2 as RFC 5802 §3 says.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { AuthenticatedUser, CredentialStore, SaslMechanismName } from '@delegato/sasl';
import type { TestAccount } from './test-accounts.js';

/** Every SASL mechanism the servers offer, in the order to advertise. */
export const ALL_MECHANISMS: SaslMechanismName[] = ['SCRAM-SHA-256', 'CRAM-MD5', 'PLAIN', 'LOGIN'];

const SCRAM_ITERATIONS = 4096;

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** A `CredentialStore` over a fixed list of accounts (login or address). */
export function memoryCredentials(accounts: TestAccount[]): CredentialStore {
  const scram = new Map(
    accounts.map((a) => {
      const salt = randomBytes(16);
      const salted = pbkdf2Sync(a.password, salt, SCRAM_ITERATIONS, 32, 'sha256');
      const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
      return [a.id, { salt, iterations: SCRAM_ITERATIONS, storedKey, serverKey: hmac(salted, 'Server Key') }];
    }),
  );
  const find = (login: string) =>
    accounts.find((a) => a.login === login.toLowerCase() || a.address === login.toLowerCase());
  const user = (a: TestAccount): AuthenticatedUser => ({ id: a.id, address: a.address });
  return {
    async verifyPassword(login, password) {
      const a = find(login);
      return a && a.password === password ? user(a) : null;
    },
    async cramSecret(login) {
      const a = find(login);
      return a ? { user: user(a), secret: a.password } : null;
    },
    async scramKeys(login) {
      const a = find(login);
      const keys = a && scram.get(a.id);
      return a && keys ? { user: user(a), ...keys } : null;
    },
  };
}
