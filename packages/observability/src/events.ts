/**
 * The closed list of structured log events. Every line that records something an operator may search
 * for carries `event: <name>`. Keep docs/log-events.md in step (a test compares them).
 */
export const LOG_EVENTS = {
  'appliance.runtime':
    'First line of every start: the Node.js version the appliance runs on and its platform.',
  'appliance.start': 'The appliance process started and finished starting its services.',
  'appliance.stop': 'The appliance process is shutting down (signal or fatal error).',
  'listener.open': 'A network listener is accepting connections (protocol, address, port).',
  'listener.close': 'A network listener stopped accepting connections.',
  'config.loaded': 'The configuration was loaded and validated (sources used, region id).',
  'directory.open': 'The directory database was opened.',
  'control.request': 'A request arrived on the local control interface.',
  'control.error': 'A control interface request failed.',
  'tls.self_signed_created': 'A self-signed TLS certificate was generated in the data directory.',
  'tls.certificates_loaded':
    'The certificates chosen by SNI were loaded (tls.certificatesDir and ACME): number of certificates and names.',
  'tls.certificate_skipped':
    'A certificate directory could not be used (unreadable, key not matching, no DNS name): directory, error.',
  'acme.issued': 'A certificate was issued or renewed by the ACME CA (certificate: the domain or host name).',
  'acme.failed':
    'Issuing or renewing a certificate from the ACME CA failed (certificate, error); retried at the next run.',
  'operator.bootstrap': 'The first operator account was created.',
  'mailbox.quota_warning':
    'A delivery brought a mailbox to 90 % of its quota and its user was sent the warning (mailbox, bytes used, limit); at warn level when sending it failed.',
  'job.run': 'A scheduled job ran: name, duration.',
  'job.error': 'A scheduled job failed: name, error.',
  'mailbox.expiry_warning':
    'The contact person of a mailbox was warned of its expiration date (job mailbox-expiry; mailbox, date, address warned).',
  'certificate.expiring':
    'A TLS or federation certificate expires within operations.certificateWarningDays (job certificate-expiry; warn: name, subject, expiry, days left).',
  'gateway.replaced':
    'The attachment gateway replaced parts of a message by download links at delivery: recipient domain, recipients, parts, bytes.',
  'gateway.malformed':
    'The attachment gateway found malformed MIME in a message for registered recipients and delivered it unmodified (domain, reason).',
  'gateway.download':
    'A download from the attachment gateway: status, bytes sent, range, domain (never the token).',
  'smtp.connection': 'SMTP connection-level event from the MX listener (connect, close, TLS); debug level.',
  'smtp.protocol': 'One SMTP command verb or reply (never its arguments); debug level.',
  'smtp.received': 'A message was accepted: id, number of local deliveries and queued recipients, sender.',
  'smtp.delivery_failed': 'Storing or queueing an accepted DATA failed; the client got a 451 and will retry.',
  'smtp.aborted': 'The client went away in the middle of a message; nothing was stored.',
  'smtp.auth': 'A client authenticated on a submission listener (user, client address, mechanism).',
  'smtp.auth_failed':
    'A failed or rate-limited login on a submission listener (user, client; never the secret; `reason: authzid` when AUTH PLAIN named someone else as authorization identity).',
  'smtp.dsn_failed': 'Sending a delivery status notification failed.',
  'queue.deferred': 'A delivery attempt was deferred (temporary failure); the next attempt is scheduled.',
  'queue.dns_partial':
    "An MX host's A or AAAA lookup failed while the other family answered: those addresses are tried (host, code).",
  'queue.error': 'The queue worker hit an unexpected error (it retries).',
  'queue.outcome': 'The outbound queue finished a recipient: delivered, relayed, bounced, or a delay notice.',
  'lists.accepted':
    'A post to a built-in list that is not moderated was accepted (list, id, sender, size); it goes to the members next.',
  'lists.held':
    'A post to a moderated list was accepted and held for the owner (list, id, sender, size); the owner was sent a notice.',
  'lists.released':
    'A list post was sent to the members (list, id, local and queued copies, members skipped, who approved it).',
  'lists.rejected': 'A held list post was rejected (list, id, by whom); the poster gets a notice.',
  'lists.expired': 'A held list post was not approved in time (list, id); the poster gets a notice.',
  'lists.refused':
    'A post or moderation reply to a list was refused in the SMTP transaction (list, sender, reason).',
  'lists.bounce':
    "A bounce came back to a list's bounce address (list, id, subject); it is not passed on to the poster.",
  'lists.error':
    'Sending a list post or a list notice failed (list, id, error); a post is retried at the next change or start.',
  'smtp.error': 'The SMTP listener reported an error (socket or TLS failure).',
  'msgauth.verdict':
    'Message authentication at the MX (SPF, DKIM, DMARC, ARC): verdict accept, quarantine or reject, the reason, each result, client.',
  'msgauth.sign_failed':
    'DKIM signing or ARC sealing of an outgoing message failed; it was sent without (error).',
  'mtasts.policy':
    "A recipient domain's MTA-STS policy was fetched or renewed (domain, mode, max_age, status).",
  'mtasts.failed':
    "A recipient domain's MTA-STS policy could not be fetched (domain, error); a cached policy stays in force.",
  'session.revoked':
    'IMAP or POP3 sessions of a mailbox were ended: removed, disabled, or its password changed (proto, user id, sessions, reason).',
  'auth.lockout':
    'Failed logins (IMAP, POP3, submission) locked a mailbox out: recorded in the directory so that every region refuses its logins until then (mailbox, client, retry after; warn when the record could not be made).',
  'federation.revocations':
    'Revoked region certificates: a region was revoked (`federation revoke`: region, by whom, reason), or the list could not be read (error).',
  'federation.hub_start':
    'The replication hub (tursodb --sync-server) answers on its loopback URL (pid, url, start time, restarts so far).',
  'federation.hub_exit':
    'The replication hub exited unexpectedly or failed to restart (pid, code, signal, stderr tail); it is restarted after a backoff delay.',
  'federation.hub_stop': 'The replication hub was stopped (pid; SIGTERM, or SIGKILL after the deadline).',
  'federation.hub_survivor':
    'A tursodb left running by an earlier appliance process on the same hub file was stopped before the hub started (pid).',
  'federation.gateway_request':
    'A request through the federation sync endpoint: verified peer region, method, path, status, duration; debug level.',
  'federation.gateway_refused':
    'The federation sync endpoint refused a client: clear text, no client certificate, or one not issued by the federation CA (peer address, reason).',
  'federation.ca_created': 'The federation CA was created in the data directory (subject, validity).',
  'federation.region_issued':
    'A region certificate was issued by the federation CA (region, host names, serial, validity).',
  'federation.replication_pull':
    "The directory replica's pull started failing (warn; the hub's or the gateway's error; the region serves its local replica) or works again (info).",
  'federation.schema_wait':
    'The directory replica has an older schema than this code (the missing migrations): the region waits for the writer to migrate, pulling every second; done: true once they arrived.',
  'federation.change_compensated':
    "At the writer: a directory change's push failed after its commit; the change was undone by a compensating write and refused (change kind, rows undone, error). Never the change's input.",
  'federation.change_forwarded':
    "At the writer: a change forwarded by another region (verified region, change kind, outcome: applied or the error code, duration). Never the change's input.",
  'federation.bundle_installed':
    'A region bundle was installed into the data directory (region, CA subject).',
  'federation.smtp_refused':
    'The federation SMTP listener (port.federation) refused a client before the greeting: clear text, no client certificate, one not issued by the federation CA, or one naming no region (peer address, reason).',
  'federation.smtp_not_homed':
    'A peer region sent a recipient whose domain is not homed in this region on the federation channel; refused with 550 5.7.1 (peer region, recipient, its home region).',
  'federation.smtp_disabled':
    'The federation SMTP listener was not opened: this region has no federation certificate (run delegato federation init or join); mail for other regions stays queued.',
  'federation.writer_role':
    "This region's role in the directory changed because the replica names another writer region (a move by delegato federation writer reached it): role (writer or replica), the writer region, this region.",
  'federation.writer_moved':
    'delegato federation writer moved the directory writer role: the new writer region, the previous one; recorded and pushed by the previous writer.',
  'federation.trace_served':
    "A peer region asked this region's federation API for its part of a message's delivery trace (verified peer region, entries returned).",
  'federation.trace_peer':
    "delegato trace asked a peer region for its part of a relayed message's trace (region, ok, entries, or the error when it was unreachable).",
  'federation.proxy_login':
    'An IMAP or POP3 login for a mailbox homed in another region was passed on to its home region over the federation proxy channel (protocol, user, home region, client address).',
  'federation.proxy_end':
    'A proxied IMAP or POP3 session ended (protocol, user, home region, bytes each way).',
  'federation.proxy_unavailable':
    'The home region of a mailbox could not be reached or refused a proxied session; the client got NO [UNAVAILABLE] or -ERR [SYS/TEMP] (protocol, user, home region, error).',
  'federation.proxy_accepted':
    'At the home region: a proxy region opened an IMAP or POP3 session for a mailbox homed here on port.proxy (peer region, protocol, user, client address).',
  'federation.proxy_refused':
    'At the home region: the proxy listener (port.proxy) refused a connection: no or untrusted client certificate, a certificate naming no region, a malformed request line, or a mailbox not homed here or not allowed to log in (peer, reason).',
  'federation.proxy_disabled':
    'The proxy listener was not opened and logins are not proxied: this region has no federation certificate (run delegato federation init or join).',
  'appliance.stop_failed': 'A shutdown step failed (error); the remaining steps still run.',
  'listener.error': 'A network listener reported an error (protocol, error).',
  'tls.handshake_failed':
    'A TLS handshake failed: implicit TLS or STARTTLS/STLS (protocol, error); debug level.',
  'session.revocation_failed':
    'Checking whether the IMAP and POP3 sessions of a changed mailbox must end failed (user id, error).',
  'imap.connection':
    'IMAP connection-level event: STARTTLS done, autologout, socket error, closed; debug level.',
  'imap.command': 'One IMAP command name and the session state (never its arguments); debug level.',
  'imap.auth': 'An IMAP client logged in (user id, client address).',
  'imap.auth_failed':
    'A failed or rate-limited IMAP LOGIN or AUTHENTICATE (user name typed, client address, mechanism, reason; never the secret).',
  'imap.error':
    'An IMAP session, command or background update failed unexpectedly (error), or the connection was aborted (reason).',
  'pop3.connection':
    'POP3 connection-level event: STLS done, HTTP request on the port, autologout, socket error, closed; debug level.',
  'pop3.command': 'One POP3 command keyword and the session state (never its arguments); debug level.',
  'pop3.auth': 'A POP3 client logged in (user id, client address, number of messages).',
  'pop3.auth_failed':
    'A failed or rate-limited POP3 PASS or AUTH (user name typed, client address, mechanism, reason; never the password).',
  'pop3.error': 'A POP3 session, command, response or UPDATE step failed unexpectedly (error).',
  'admin.signin':
    'A sign-in to the admin UI (form) or a token issued by the JSON API (`via: api`): actor, user name, client.',
  'admin.signin_failed':
    'A failed admin UI or API sign-in: the name typed, client, reason (password, totp, network, certificate, rate-limited); never the password or code.',
  'admin.lockout':
    'Failed sign-ins locked a name out at a client address for a while (name typed, client, retry after).',
  'admin.signout': 'A sign-out from the admin UI, or an API token revoked (actor, client).',
  'admin.action':
    'A change made in the admin UI or JSON API succeeded: actor, method, path, status, client (never a body).',
  'admin.error': 'The admin UI or JSON API hit an unexpected error (500): error.',
} as const;

export type LogEvent = keyof typeof LOG_EVENTS;

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** One level method of a logger: a pino `Logger` has all six, the admin UI's `AdminLogger` four. */
export type LogMethod = (obj: object, msg?: string) => void;

/**
 * Log `event` at `level` with `{ event, ...fields }`; `event` cannot be overridden by `fields`. The logger
 * needs only the method of `level`; an absent logger (a package handed none) logs nothing.
 */
/** See every event logged, before the level filter (metrics.ts, the appliance's statistics count them). */
const eventObservers = new Set<(event: LogEvent, fields: object | undefined) => void>();

/** Adds an observer of every logged event; returns the function that removes it. An observer never throws. */
export function observeEvents(observer: (event: LogEvent, fields: object | undefined) => void): () => void {
  eventObservers.add(observer);
  return () => eventObservers.delete(observer);
}

export function logEventAt<L extends LogLevel>(
  logger: { readonly [K in NoInfer<L>]: LogMethod } | undefined,
  level: L,
  event: LogEvent,
  fields?: object,
  msg?: string,
): void {
  for (const observe of eventObservers) observe(event, fields);
  if (logger === undefined) return;
  const entry: Record<string, unknown> = { event, ...fields };
  entry.event = event;
  if (msg === undefined) logger[level](entry);
  else logger[level](entry, msg);
}

/** Log `event` at info level with `{ event, ...fields }`; `event` cannot be overridden by `fields`. */
export function logEvent(
  logger: { readonly info: LogMethod } | undefined,
  event: LogEvent,
  fields?: object,
  msg?: string,
): void {
  logEventAt(logger, 'info', event, fields, msg);
}
