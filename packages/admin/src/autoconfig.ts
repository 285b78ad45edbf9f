/**
 * Thunderbird autoconfiguration (the "ISPDB" format, clientConfig version 1.1) for the public web
 * listener: `GET /mail/config-v1.1.xml?emailaddress=user@domain` (the URL Thunderbird asks at
 * `autoconfig.<domain>`) and `/.well-known/autoconfig/mail/config-v1.1.xml` (the one it asks at the
 * domain itself). Only hosted domains are answered; whether a mailbox exists is never revealed.
 */
import { type Directory, normaliseDomain } from '@delegato/directory';
import { Hono } from 'hono';
import { type MailPorts, type ServerNames, STANDARD_PORTS } from './env.js';

const xml = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[ch] ?? ch,
  );

export function autoconfigXml(domain: string, names: ServerNames, ports: MailPorts): string {
  const server = (tag: string, type: string, host: string, port: number, socket: string) =>
    `    <${tag} type="${type}">
      <hostname>${xml(host)}</hostname>
      <port>${port}</port>
      <socketType>${socket}</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </${tag}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${xml(domain)}">
    <domain>${xml(domain)}</domain>
    <displayName>${xml(domain)} mail</displayName>
    <displayShortName>${xml(domain)}</displayShortName>
${server('incomingServer', 'imap', names.imap, ports.imaps, 'SSL')}
${server('incomingServer', 'imap', names.imap, ports.imap, 'STARTTLS')}
${server('incomingServer', 'pop3', names.pop, ports.pop3s, 'SSL')}
${server('incomingServer', 'pop3', names.pop, ports.pop3, 'STARTTLS')}
${server('outgoingServer', 'smtp', names.smtp, ports.submissions, 'SSL')}
${server('outgoingServer', 'smtp', names.smtp, ports.submission, 'STARTTLS')}
  </emailProvider>
</clientConfig>
`;
}

export function autoconfigApp(opts: {
  directory: Directory;
  hostnames?: ServerNames | ((domain: string) => ServerNames);
  ports?: Partial<MailPorts>;
}): Hono {
  const app = new Hono();
  const ports = { ...STANDARD_PORTS, ...opts.ports };
  const names = (domain: string): ServerNames => {
    const h = opts.hostnames;
    if (typeof h === 'function') return h(domain);
    return h ?? { imap: `imap.${domain}`, pop: `pop.${domain}`, smtp: `smtp.${domain}` };
  };
  const handler = async (c: import('hono').Context) => {
    const email = (c.req.query('emailaddress') ?? '').trim();
    const at = email.lastIndexOf('@');
    let domain: string;
    try {
      domain = normaliseDomain(at >= 0 ? email.slice(at + 1) : (c.req.query('domain') ?? ''));
    } catch {
      return c.text('unknown domain', 404);
    }
    const found = await opts.directory.lookupRecipient(`postmaster@${domain}`);
    if (found.kind === 'not-hosted' || found.kind === 'invalid') return c.text('unknown domain', 404);
    c.header('Content-Type', 'application/xml; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(autoconfigXml(domain, names(domain), ports));
  };
  app.get('/mail/config-v1.1.xml', handler);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', handler);
  return app;
}
