/**
 * What the IMAP and POP3 test harnesses have in common: the server options every protocol server under
 * test gets (the test accounts, every SASL mechanism by default, a throwaway certificate, a recording
 * logger), listening on loopback plain and with implicit TLS, and a stop that runs once.
 */
import type { AddressInfo } from 'node:net';
import type { LoginRateLimiter, SaslMechanismName } from '@delegato/sasl';
import { ALL_MECHANISMS, memoryCredentials } from './memory-credentials.js';
import { recordingLogger } from './recording-logger.js';
import { ALICE, BOB, CAROL } from './test-accounts.js';
import { selfSignedCert } from './tls-cert.js';

/** The accounts a harness's store and credentials know. */
export const HARNESS_ACCOUNTS = [ALICE, BOB, CAROL];

/** The knobs a test may turn on a protocol server (`L`: the protocol's limits). */
export interface MailServerTestOptions<L> {
  trustLocalConnections?: boolean;
  rateLimiter?: LoginRateLimiter;
  limits?: Partial<L>;
  mechanisms?: SaslMechanismName[];
}

/** The options of a protocol server under test, but its backend; `problems` records what it logs. */
export function mailServerTestOptions<L>(hostname: string, opts: MailServerTestOptions<L>) {
  const { logger, problems } = recordingLogger();
  return {
    problems,
    options: {
      hostname,
      tls: selfSignedCert(),
      credentials: memoryCredentials(HARNESS_ACCOUNTS),
      mechanisms: opts.mechanisms ?? ALL_MECHANISMS,
      rateLimiter: opts.rateLimiter,
      trustLocalConnections: opts.trustLocalConnections,
      limits: opts.limits,
      logger,
    },
  };
}

/** A protocol server with plain and implicit-TLS listeners (`ImapServer`, `Pop3Server`). */
export interface ListeningServer {
  listen(port: number, host: string, opts: { implicitTls: boolean }): Promise<{ address: AddressInfo }>;
}

/** Listens on 127.0.0.1, any free port, once plain and once with implicit TLS. */
export async function listenOnLoopback(server: ListeningServer): Promise<{ port: number; tlsPort: number }> {
  const plain = await server.listen(0, '127.0.0.1', { implicitTls: false });
  const secure = await server.listen(0, '127.0.0.1', { implicitTls: true });
  return { port: plain.address.port, tlsPort: secure.address.port };
}

/** Closes each of `closables` in order, the first time it is called only. */
export function closeOnce(...closables: { close(): Promise<void> }[]): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    for (const c of closables) await c.close();
  };
}
