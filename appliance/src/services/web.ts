/**
 * The public web listener (DELEGATO_PORT_WEB, HTTPS): what mail clients and users reach at the names of
 * their own domain (`autoconfig.<domain>`, `autodiscover.<domain>`, `<domain>`).
 *
 * - `GET /mail/config-v1.1.xml?emailaddress=...` and `/.well-known/autoconfig/mail/config-v1.1.xml`:
 *   Thunderbird autoconfig (clientConfig 1.1);
 * - `POST /autodiscover/autodiscover.xml`: Outlook Autodiscover (POX, [MS-OXDSCLI]);
 * - `GET /apple/mobileconfig?emailaddress=...`: an Apple configuration profile (Apple Mail, iPhone, iPad);
 * - `GET /`: a short page that sends users to the self-service sign-in of the admin listener;
 * - `GET /.well-known/mta-sts.txt` at `mta-sts.<domain>`: the MTA-STS policy (RFC 8461 §3.3);
 * - `GET /gateway/<token>`: an attachment the gateway cut out of a message (issue 15; HTTPS, ranges);
 * - `GET /healthz`.
 *
 * Nothing here needs a session: the administration UI stays on its own listener (DELEGATO_PORT_ADMIN),
 * which an operator can restrict to internal networks while this one faces the Internet.
 */
import {
  autoconfigApp,
  autodiscoverApp,
  type MailPorts,
  mobileconfigApp,
  type ServerNames,
} from '@delegato/admin';
import type { Directory } from '@delegato/directory';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { healthz } from './healthz.js';

export interface WebOptions {
  directory: Directory;
  region: string;
  /** The ports users connect to (the listeners' real ports). */
  ports?: Partial<MailPorts>;
  hostnames?: ServerNames | ((domain: string) => ServerNames);
  /** The admin listener's port, for the link on the home page. */
  adminPort: number;
  /** `/gateway/<token>`: attachment gateway downloads (issue 15; services/gateway.ts). */
  gateway?: Hono;
  /** `/.well-known/mta-sts.txt` at `mta-sts.<domain>` (RFC 8461; message-auth.ts). */
  mtaSts?: Hono;
}

/** The host name the browser asked for, when it is a plain DNS name or IP literal; else null. */
function requestedHost(hostHeader: string | undefined): string | null {
  const host = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  return /^(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$|^\[[0-9a-f:.]+\]$/.test(host) ? host : null;
}

const HOME = (signIn: string | null, adminPort: number) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Mail service</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>Mail service</h1>
<p>To change your mail password or to see how to set up your mail program,
${signIn ? `<a href="${signIn}">sign in with your e-mail address</a>` : `sign in with your e-mail address on port ${adminPort} of this server`}.</p>
<p>Mail programs such as Thunderbird and Outlook find their settings here by themselves:
enter your e-mail address and password and they do the rest.</p>
<form method="get" action="/apple/mobileconfig">
<p><label for="emailaddress">iPhone, iPad or Mac: your e-mail address</label><br>
<input id="emailaddress" name="emailaddress" type="email" required autocomplete="email">
<button type="submit">Download the set-up profile</button></p>
<p>Then open Settings (on a Mac: System Settings), install the downloaded profile and enter your
password when asked.</p>
</form>
</body></html>
`;

export function webApp(opts: WebOptions): Hono {
  const app = new Hono();
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: ["'unsafe-inline'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    }),
  );
  app.get('/healthz', healthz(opts.directory, opts.region));
  app.get('/', (c) => {
    // The Host header is the client's own: validated as a host name, it only ever links back to itself.
    const host = requestedHost(c.req.header('host'));
    return c.html(HOME(host ? `https://${host}:${opts.adminPort}/login` : null, opts.adminPort));
  });
  const discovery = { directory: opts.directory, ports: opts.ports, hostnames: opts.hostnames };
  app.route('/', autoconfigApp(discovery));
  app.route('/', autodiscoverApp(discovery));
  app.route('/', mobileconfigApp(discovery));
  if (opts.mtaSts) app.route('/', opts.mtaSts);
  if (opts.gateway) app.route('/', opts.gateway);
  app.notFound((c) => c.text('not found', 404));
  return app;
}
