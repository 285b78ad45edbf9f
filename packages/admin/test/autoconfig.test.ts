import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoconfigApp } from '../src/index.js';
import { world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>>;
beforeAll(async () => {
  w = await world();
});
afterAll(async () => w?.cleanup());

describe('Thunderbird autoconfig', () => {
  it('serves the clientConfig of a hosted domain with its own server names and the configured ports', async () => {
    const app = autoconfigApp({ directory: w.directory, ports: { imaps: 2993, submission: 2587 } });
    for (const path of ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']) {
      const res = await app.request(
        `https://autoconfig.a.example${path}?emailaddress=rose.pinkcheeks%40a.example`,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('application/xml');
      const xml = await res.text();
      expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<clientConfig version="1.1">/);
      expect(xml).toContain('<emailProvider id="a.example">');
      expect(xml).toMatch(
        /<incomingServer type="imap">\s*<hostname>imap\.a\.example<\/hostname>\s*<port>2993<\/port>\s*<socketType>SSL<\/socketType>/,
      );
      expect(xml).toMatch(
        /<hostname>imap\.a\.example<\/hostname>\s*<port>143<\/port>\s*<socketType>STARTTLS/,
      );
      expect(xml).toMatch(
        /<incomingServer type="pop3">\s*<hostname>pop\.a\.example<\/hostname>\s*<port>995<\/port>/,
      );
      expect(xml).toMatch(
        /<outgoingServer type="smtp">\s*<hostname>smtp\.a\.example<\/hostname>\s*<port>465<\/port>/,
      );
      expect(xml).toMatch(/<port>2587<\/port>\s*<socketType>STARTTLS/);
      expect(xml).toContain('<username>%EMAILADDRESS%</username>');
      expect(xml).toContain('<authentication>password-cleartext</authentication>');
    }
  });

  it('answers any address of a hosted domain alike, and 404 for other domains or junk', async () => {
    const app = autoconfigApp({
      directory: w.directory,
      hostnames: (d) => ({ imap: `mail.${d}`, pop: `mail.${d}`, smtp: `mail.${d}` }),
    });
    const unknownUser = await app.request('https://x/mail/config-v1.1.xml?emailaddress=nobody%40b.example');
    expect(unknownUser.status).toBe(200);
    expect(await unknownUser.text()).toContain('<hostname>mail.b.example</hostname>');
    expect(
      (await app.request('https://x/mail/config-v1.1.xml?emailaddress=a%40elsewhere.example')).status,
    ).toBe(404);
    expect((await app.request('https://x/mail/config-v1.1.xml?emailaddress=%3Cscript%3E')).status).toBe(404);
    expect((await app.request('https://x/mail/config-v1.1.xml')).status).toBe(404);
  });
});
