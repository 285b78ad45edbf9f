/** The POP3 listeners: `port.pop3` (STLS, RFC 2595) and `port.pop3s` (implicit TLS, RFC 8314). */
import type { Directory } from '@delegato/directory';
import type { LoginProxy } from '@delegato/mail-core';
import type { MailStore } from '@delegato/mailstore';
import type { Logger } from '@delegato/observability';
import { MaildropLocks, type Pop3Backend, Pop3Server } from '@delegato/pop3';
import { type LoginRateLimiter, supportedMechanisms } from '@delegato/sasl';
import type { Config } from '../config/schema.js';
import { directoryCredentials } from './credentials.js';

export async function startPop3(opts: {
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
  // One lock table for both listeners: a maildrop is [IN-USE] whichever port the other session used.
  const locks = new MaildropLocks();
  const server = new Pop3Server({
    hostname: config.smtp.hostname,
    tls: opts.tls,
    backend: opts.store satisfies Pop3Backend,
    credentials: directoryCredentials(opts.directory, opts.rateLimiter),
    mechanisms: supportedMechanisms({ cramMd5: config.directory.cramMd5, scram: true }),
    rateLimiter: opts.rateLimiter,
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
    locks,
    logger: opts.logger.child({ proto: 'pop3' }),
  });
  const plain = await server.listen(config.port.pop3, config.listen, { implicitTls: false });
  const implicit = await server.listen(config.port.pop3s, config.listen, { implicitTls: true });
  return { plain, implicit, server, close: () => server.close() };
}
