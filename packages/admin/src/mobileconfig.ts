/**
 * Apple configuration profiles for Apple Mail on macOS, iPhone and iPad: `GET /apple/mobileconfig?
 * emailaddress=...` answers an unsigned `.mobileconfig` (a property list) with one `com.apple.mail.managed`
 * payload: IMAP over implicit TLS and submission over implicit TLS, password authentication, the address
 * as user name. The profile carries no password: the device asks for it when the profile is installed.
 *
 * The payload identifiers and UUIDs are derived from the address, so installing a newer profile for the
 * same address replaces the old one instead of adding a second account. As with autoconfig, only hosted
 * domains are answered and any address of such a domain gets a profile (existence is never revealed).
 */
import { createHash } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { type DiscoveryOptions, discovery, xmlText as xml } from './discovery.js';
import type { MailPorts, ServerNames } from './env.js';

export const MOBILECONFIG_TYPE = 'application/x-apple-aspen-config';

/** A UUID (RFC 9562 layout, version 8: custom) derived from a name, stable across downloads. */
function nameUuid(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

/** `example.org` -> `org.example` (payload identifiers are reverse-DNS). */
const reverseDns = (domain: string) => domain.split('.').reverse().join('.');

export function mobileconfigXml(address: string, names: ServerNames, ports: MailPorts): string {
  const domain = address.slice(address.lastIndexOf('@') + 1);
  const id = `${reverseDns(domain)}.mail.${nameUuid(address).toLowerCase()}`;
  const key = (k: string, value: string) => `\t\t\t<key>${k}</key>\n\t\t\t${value}`;
  const str = (s: string) => `<string>${xml(s)}</string>`;
  const int = (n: number) => `<integer>${n}</integer>`;
  const account = [
    key('EmailAccountDescription', str(`${domain} mail`)),
    key('EmailAccountType', str('EmailTypeIMAP')),
    key('EmailAddress', str(address)),
    key('IncomingMailServerAuthentication', str('EmailAuthPassword')),
    key('IncomingMailServerHostName', str(names.imap)),
    key('IncomingMailServerPortNumber', int(ports.imaps)),
    key('IncomingMailServerUseSSL', '<true/>'),
    key('IncomingMailServerUsername', str(address)),
    key('OutgoingMailServerAuthentication', str('EmailAuthPassword')),
    key('OutgoingMailServerHostName', str(names.smtp)),
    key('OutgoingMailServerPortNumber', int(ports.submissions)),
    key('OutgoingMailServerUseSSL', '<true/>'),
    key('OutgoingMailServerUsername', str(address)),
    key('OutgoingPasswordSameAsIncomingPassword', '<true/>'),
    key('PayloadDisplayName', str(`Mail: ${address}`)),
    key('PayloadIdentifier', str(`${id}.account`)),
    key('PayloadType', str('com.apple.mail.managed')),
    key('PayloadUUID', str(nameUuid(`${address}#account`))),
    key('PayloadVersion', int(1)),
  ].join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>PayloadContent</key>
\t<array>
\t\t<dict>
${account}
\t\t</dict>
\t</array>
\t<key>PayloadDescription</key>
\t<string>${xml(`Sets up the mail account ${address}. You will be asked for its password.`)}</string>
\t<key>PayloadDisplayName</key>
\t<string>${xml(`${domain} mail`)}</string>
\t<key>PayloadIdentifier</key>
\t<string>${xml(id)}</string>
\t<key>PayloadRemovalDisallowed</key>
\t<false/>
\t<key>PayloadType</key>
\t<string>Configuration</string>
\t<key>PayloadUUID</key>
\t<string>${nameUuid(address)}</string>
\t<key>PayloadVersion</key>
\t<integer>1</integer>
</dict>
</plist>
`;
}

/** The address the profile is for: a plain `local@domain` without characters a plist or header needs escaped. */
const PROFILE_ADDRESS = /^[A-Za-z0-9.!#$%*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9.-]{1,253}$/;

export function mobileconfigApp(opts: DiscoveryOptions): Hono {
  const app = new Hono();
  const d = discovery(opts);
  app.get('/apple/mobileconfig', async (c: Context) => {
    const raw = (c.req.query('emailaddress') ?? '').trim();
    if (!PROFILE_ADDRESS.test(raw)) return c.text('expected ?emailaddress=you@your.domain', 400);
    const at = raw.lastIndexOf('@');
    const domain = await d.hostedDomain(raw.slice(at + 1));
    if (!domain) return c.text('unknown domain', 404);
    const address = `${raw.slice(0, at)}@${domain}`;
    c.header('Content-Type', `${MOBILECONFIG_TYPE}; charset=utf-8`);
    c.header('Content-Disposition', `attachment; filename="${domain}.mobileconfig"`);
    c.header('Cache-Control', 'no-store');
    return c.body(mobileconfigXml(address, d.names(domain), d.ports));
  });
  return app;
}
