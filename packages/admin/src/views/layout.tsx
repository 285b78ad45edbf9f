/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The frame of every page: header, navigation, domain selector, help link, messages. */

import { raw } from 'hono/html';
import type { Child, FC } from 'hono/jsx';
import type { Flash } from '../session.js';
import { CsrfInput } from './form.js';

export type UserInfo =
  | { kind: 'admin'; name: string; operator: boolean; domains: string[] }
  | { kind: 'mailbox'; address: string };

/** What the frame needs to know about the request. */
export interface Chrome {
  title: string;
  /** The help topic this page links to (`/help/<topic>`). */
  help: string;
  user: UserInfo | null;
  csrf: string | null;
  /** The domain being managed, for the section navigation. */
  domain?: string;
  /** Which navigation entry is current. */
  section?: string;
  flash?: Flash[];
  /** Pages meant for printing leave the navigation out of the print. */
  printable?: boolean;
}

const DomainNav: FC<{ domain: string; section?: string }> = ({ domain, section }) => {
  const d = encodeURIComponent(domain);
  const items: Array<[string, string, string]> = [
    ['mailboxes', `/d/${d}/mailboxes`, 'Local mailboxes'],
    ['forwards', `/d/${d}/forwards`, 'Remote mailboxes'],
    ['aliases', `/d/${d}/aliases`, 'Aliases'],
    ['lists', `/d/${d}/lists`, 'Distribution lists'],
    ['domain-audit', `/d/${d}/audit`, 'Changes'],
  ];
  return (
    <nav class="domain-nav" aria-label={`Domain ${domain}`}>
      <span class="domain-name">{domain}</span>
      <ul>
        {items.map(([key, href, label]) => (
          <li>
            <a href={href} aria-current={section === key ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
};

const DomainSelector: FC<{ domains: string[]; current?: string }> = ({ domains, current }) => (
  <form method="get" action="/go" class="domain-selector">
    <label for="domain-select">Go to domain</label>
    <select id="domain-select" name="domain">
      {domains.map((d) => (
        <option value={d} selected={d === current}>
          {d}
        </option>
      ))}
    </select>
    <button type="submit">Open</button>
  </form>
);

const MainNav: FC<{ user: UserInfo; section?: string }> = ({ user, section }) => {
  const items: Array<[string, string, string]> = [];
  if (user.kind === 'admin' && user.operator) {
    items.push(['domains', '/domains', 'Domains']);
    items.push(['admins', '/admins', 'Administrators']);
    items.push(['regions', '/regions', 'Regions']);
    items.push(['audit', '/audit', 'Audit log']);
  }
  if (user.kind === 'admin' && !user.operator && user.domains.length === 1) {
    const d = user.domains[0] ?? '';
    items.push(['mailboxes', `/d/${encodeURIComponent(d)}/mailboxes`, d]);
  }
  items.push(['me', '/me', 'My account']);
  return (
    <nav class="main-nav" aria-label="Main">
      <ul>
        {items.map(([key, href, label]) => (
          <li>
            <a href={href} aria-current={section === key ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
};

export const Layout: FC<{ chrome: Chrome; children?: Child }> = ({ chrome, children }) => {
  const { user } = chrome;
  const selectorDomains = user?.kind === 'admin' ? user.domains : [];
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${chrome.title} · Delegato`}</title>
          <link rel="stylesheet" href="/assets/admin.css" />
        </head>
        <body class={chrome.printable ? 'printable' : undefined}>
          <header class="top">
            <a class="brand" href="/">
              Delegato
            </a>
            {user ? <MainNav user={user} section={chrome.section} /> : null}
            {user?.kind === 'admin' && selectorDomains.length > 1 ? (
              <DomainSelector domains={selectorDomains} current={chrome.domain} />
            ) : null}
            <div class="top-right">
              <a class="help-link" href={`/help/${chrome.help}`}>
                Help
              </a>
              {user && chrome.csrf ? (
                <form method="post" action="/logout" class="logout">
                  <CsrfInput token={chrome.csrf} />
                  <span class="who">{user.kind === 'admin' ? user.name : user.address}</span>
                  <button type="submit">Sign out</button>
                </form>
              ) : null}
            </div>
          </header>
          {chrome.domain && user?.kind === 'admin' ? (
            <DomainNav domain={chrome.domain} section={chrome.section} />
          ) : null}
          <main>
            {(chrome.flash ?? []).map((f) => (
              <div class={`flash flash-${f.kind}`} role={f.kind === 'error' ? 'alert' : 'status'}>
                <p>{f.text}</p>
                {f.secret ? <p class="secret">{f.secret}</p> : null}
              </div>
            ))}
            {children}
          </main>
          <footer>
            <a href={`/help/${chrome.help}`}>Help for this page</a> · <a href="/help">All help topics</a>
          </footer>
        </body>
      </html>
    </>
  );
};
