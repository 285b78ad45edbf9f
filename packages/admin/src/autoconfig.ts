/**
 * Thunderbird autoconfiguration (the "ISPDB" format, clientConfig version 1.1) for the public web
 * listener: `GET /mail/config-v1.1.xml?emailaddress=user@domain` (the URL Thunderbird asks at
 * `autoconfig.<domain>`) and `/.well-known/autoconfig/mail/config-v1.1.xml` (the one it asks at the
 * domain itself). Only hosted domains are answered; whether a mailbox exists is never revealed.
 */
import { type Context, Hono } from 'hono';
import { type DiscoveryOptions, discovery, xmlText as xml } from './discovery.js';
import type { MailPorts, ServerNames } from './env.js';

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

export function autoconfigApp(opts: DiscoveryOptions): Hono {
  const app = new Hono();
  const d = discovery(opts);
  const handler = async (c: Context) => {
    const email = (c.req.query('emailaddress') ?? '').trim();
    const at = email.lastIndexOf('@');
    const domain = await d.hostedDomain(at >= 0 ? email.slice(at + 1) : (c.req.query('domain') ?? ''));
    if (!domain) return c.text('unknown domain', 404);
    c.header('Content-Type', 'application/xml; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(autoconfigXml(domain, d.names(domain), d.ports));
  };
  app.get('/mail/config-v1.1.xml', handler);
  app.get('/.well-known/autoconfig/mail/config-v1.1.xml', handler);
  return app;
}
