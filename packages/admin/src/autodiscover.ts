/**
 * Outlook's "plain old XML" Autodiscover for internet mail accounts ([MS-OXDSCLI] §2.2.4, the
 * `responseschema/2006a` account settings): Outlook POSTs a small XML request naming the address to
 * `https://autodiscover.<domain>/autodiscover/autodiscover.xml` (or `https://<domain>/...`), and we answer
 * with IMAP, POP3 and SMTP settings over implicit TLS for a hosted domain.
 *
 * As with autoconfig, only the domain matters: any address of a hosted domain gets the same settings,
 * so the answer never reveals whether a mailbox exists. The request body is bounded.
 */
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type DiscoveryOptions, discovery, xmlText as xml } from './discovery.js';
import type { MailPorts, ServerNames } from './env.js';

/** An Autodiscover request is a few hundred bytes; anything much larger is not one. */
export const AUTODISCOVER_MAX_REQUEST_BYTES = 16 * 1024;

/** The address in `<EMailAddress>` of a request, or null. */
export function requestedAddress(body: string): string | null {
  const m = /<EMailAddress>\s*([^<\s]{1,320})\s*<\/EMailAddress>/i.exec(body);
  return m?.[1] ?? null;
}

export function autodiscoverXml(address: string, names: ServerNames, ports: MailPorts): string {
  const protocol = (type: string, server: string, port: number) => `      <Protocol>
        <Type>${type}</Type>
        <Server>${xml(server)}</Server>
        <Port>${port}</Port>
        <DomainRequired>off</DomainRequired>
        <LoginName>${xml(address)}</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <AuthRequired>on</AuthRequired>
      </Protocol>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
${protocol('IMAP', names.imap, ports.imaps)}
${protocol('POP3', names.pop, ports.pop3s)}
${protocol('SMTP', names.smtp, ports.submissions)}
    </Account>
  </Response>
</Autodiscover>
`;
}

export function autodiscoverApp(opts: DiscoveryOptions): Hono {
  const app = new Hono();
  const d = discovery(opts);
  const handler = async (c: Context) => {
    const address = requestedAddress(await c.req.text());
    const at = address?.lastIndexOf('@') ?? -1;
    if (!address || at < 1) return c.text('no EMailAddress in the request', 400);
    const domain = await d.hostedDomain(address.slice(at + 1));
    if (!domain) return c.text('unknown domain', 404);
    c.header('Content-Type', 'application/xml; charset=utf-8');
    c.header('Cache-Control', 'no-store');
    return c.body(autodiscoverXml(`${address.slice(0, at)}@${domain}`, d.names(domain), d.ports));
  };
  const limit = bodyLimit({
    maxSize: AUTODISCOVER_MAX_REQUEST_BYTES,
    onError: (c) => c.text('request too large', 413),
  });
  // Outlook capitalises the path either way.
  for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
    app.post(path, limit, handler);
  }
  return app;
}
