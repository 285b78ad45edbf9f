/** @jsxRuntime automatic */
/** @jsxImportSource hono/jsx */
/** The frame of every page: header, navigation, domain selector, help link, messages. */

import { raw } from 'hono/html';
import type { Child, FC } from 'hono/jsx';
import { LANGUAGES, useLang, useT } from '../i18n/index.js';
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
  /** This page's path: where the language menu comes back to. */
  back?: string;
}

const DomainNav: FC<{ domain: string; section?: string }> = ({ domain, section }) => {
  const t = useT();
  const d = encodeURIComponent(domain);
  const items: Array<[string, string, string]> = [
    ['mailboxes', `/d/${d}/mailboxes`, t('nav.mailboxes')],
    ['forwards', `/d/${d}/forwards`, t('nav.forwards')],
    ['aliases', `/d/${d}/aliases`, t('nav.aliases')],
    ['lists', `/d/${d}/lists`, t('nav.lists')],
    ['gateway', `/d/${d}/gateway`, t('nav.gateway')],
    ['domain-audit', `/d/${d}/audit`, t('nav.changes')],
    ['domain-stats', `/d/${d}/stats`, t('nav.stats')],
    ['dns', `/d/${d}/dns`, t('nav.dns')],
  ];
  return (
    <nav class="domain-nav" aria-label={t('layout.domainNav', { domain })}>
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

const DomainSelector: FC<{ domains: string[]; current?: string }> = ({ domains, current }) => {
  const t = useT();
  return (
    <form method="get" action="/go" class="domain-selector">
      <label for="domain-select">{t('layout.goToDomain')}</label>
      <select id="domain-select" name="domain">
        {domains.map((d) => (
          <option value={d} selected={d === current}>
            {d}
          </option>
        ))}
      </select>
      <button type="submit">{t('layout.open')}</button>
    </form>
  );
};

const MainNav: FC<{ user: UserInfo; section?: string }> = ({ user, section }) => {
  const t = useT();
  const items: Array<[string, string, string]> = [];
  if (user.kind === 'admin' && user.operator) {
    items.push(['domains', '/domains', t('nav.domains')]);
    items.push(['admins', '/admins', t('nav.admins')]);
    items.push(['regions', '/regions', t('nav.regions')]);
    items.push(['audit', '/audit', t('nav.audit')]);
    items.push(['queue', '/queue', t('nav.queue')]);
    items.push(['stats', '/stats', t('nav.stats')]);
    items.push(['health', '/health', t('nav.health')]);
  }
  if (user.kind === 'admin' && !user.operator && user.domains.length === 1) {
    const d = user.domains[0] ?? '';
    items.push(['mailboxes', `/d/${encodeURIComponent(d)}/mailboxes`, d]);
  }
  items.push(['me', '/me', t('nav.me')]);
  return (
    <nav class="main-nav" aria-label={t('layout.mainNav')}>
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

/** The language menu at the foot of every page (POST /language, i18n/middleware.ts). */
const LanguageMenu: FC<{ csrf: string; back: string }> = ({ csrf, back }) => {
  const t = useT();
  const lang = useLang();
  return (
    <form method="post" action="/language" class="language-menu">
      <CsrfInput token={csrf} />
      <input type="hidden" name="back" value={back} />
      <label for="language-select">{t('layout.language')}</label>
      <select id="language-select" name="lang">
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option value={code} lang={code} selected={code === lang}>
            {name}
          </option>
        ))}
      </select>
      <button type="submit">{t('layout.languageApply')}</button>
    </form>
  );
};

export const Layout: FC<{ chrome: Chrome; children?: Child }> = ({ chrome, children }) => {
  const t = useT();
  const lang = useLang();
  const { user } = chrome;
  const selectorDomains = user?.kind === 'admin' ? user.domains : [];
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang={lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{t('layout.title', { title: chrome.title })}</title>
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
                {t('layout.help')}
              </a>
              {user && chrome.csrf ? (
                <form method="post" action="/logout" class="logout">
                  <CsrfInput token={chrome.csrf} />
                  <span class="who">{user.kind === 'admin' ? user.name : user.address}</span>
                  <button type="submit">{t('layout.signOut')}</button>
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
            <a href={`/help/${chrome.help}`}>{t('layout.helpForPage')}</a> ·{' '}
            <a href="/help">{t('layout.allHelp')}</a>
            {chrome.csrf ? <LanguageMenu csrf={chrome.csrf} back={chrome.back ?? '/'} /> : null}
          </footer>
        </body>
      </html>
    </>
  );
};
