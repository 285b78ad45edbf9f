/** The IMAP listeners: `port.imap` (STARTTLS, LOGINDISABLED before TLS) and `port.imaps` (implicit TLS). */
import type { Directory } from '@delegato/directory';
import { type ImapBackend, ImapServer } from '@delegato/imap';
import type { LoginProxy } from '@delegato/mail-core';
import type { MailStore } from '@delegato/mailstore';
import type { Logger } from '@delegato/observability';
import { type LoginRateLimiter, supportedMechanisms } from '@delegato/sasl';
import type { Config } from '../config/schema.js';
import { directoryCredentials } from './credentials.js';

export async function startImap(opts: {
  config: Config;
  directory: Directory;
  store: MailStore;
  tls: { key: string; cert: string };
  logger: Logger;
  rateLimiter: LoginRateLimiter;
  /** Logins of mailboxes homed in another region continue there (decision 0010). */
  proxy?: LoginProxy | undefined;
}) {
  const { config } = opts;
  const server = new ImapServer({
    hostname: config.smtp.hostname,
    tls: opts.tls,
    backend: opts.store satisfies ImapBackend,
    credentials: directoryCredentials(opts.directory, opts.rateLimiter),
    mechanisms: supportedMechanisms({ cramMd5: config.directory.cramMd5, scram: true }),
    rateLimiter: opts.rateLimiter,
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    logger: opts.logger.child({ proto: 'imap' }),
    // APPEND takes what the MTA would accept (smtp.maxMessageBytes).
    limits: { maxLiteralSize: config.smtp.maxMessageBytes },
  });
  const plain = await server.listen(config.port.imap, config.listen, { implicitTls: false });
  const implicit = await server.listen(config.port.imaps, config.listen, { implicitTls: true });
  return { plain, implicit, server, close: () => server.close() };
}
