/** The admin UI's languages: the catalogue is complete, and the language is chosen per person. */
import { afterEach, describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en.js';
import { chooseLanguage, fromAcceptLanguage, translator } from '../src/i18n/index.js';
import { it as italian } from '../src/i18n/it.js';
import { location, operator, world } from './helpers.js';

let w: Awaited<ReturnType<typeof world>> | undefined;
afterEach(async () => {
  await w?.cleanup();
  w = undefined;
});

const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('the message catalogue', () => {
  it('has every English message in Italian, with the same parameters, and none left untranslated', () => {
    expect(Object.keys(italian).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(en)) {
      expect(params(italian[key as keyof typeof en]), key).toEqual(params(text));
    }
    const same = Object.keys(en).filter(
      (k) =>
        italian[k as keyof typeof en] === en[k as keyof typeof en] &&
        /[a-z]{4,} [a-z]{4,}/.test(en[k as keyof typeof en]),
    );
    expect(same).toEqual([]);
  });

  it('fills parameters and leaves unknown ones visible', () => {
    expect(translator('it')('error.code', { status: 404 })).toBe('Errore 404.');
    expect(translator('en')('common.pageOf', { page: 2 })).toBe('Page 2 of {pages}');
  });
});

describe('choosing the language', () => {
  it('takes the stored preference, then the cookie, then Accept-Language (by q), then English', () => {
    expect(chooseLanguage({ stored: 'it', cookie: 'en', acceptLanguage: 'en' })).toBe('it');
    expect(chooseLanguage({ stored: null, cookie: 'it', acceptLanguage: 'en' })).toBe('it');
    expect(chooseLanguage({ stored: 'xx', cookie: 'zz', acceptLanguage: 'de-DE, it;q=0.8, en;q=0.5' })).toBe(
      'it',
    );
    expect(fromAcceptLanguage('en-GB;q=0.9, it-IT;q=0.95')).toBe('it');
    expect(fromAcceptLanguage('de, fr;q=0.5')).toBeNull();
    expect(fromAcceptLanguage('it;q=0')).toBeNull();
    expect(chooseLanguage({})).toBe('en');
  });

  it('shows the sign-in page in the browser’s language', async () => {
    w = await world();
    const res = await w.app.request('https://admin.test/help', {
      headers: { 'accept-language': 'it-IT,it;q=0.9' },
    });
    const text = await res.text();
    expect(text).toContain('<html lang="it">');
    expect(text).toContain('Tutti gli argomenti di aiuto');
    const login = await (
      await w.app.request('https://admin.test/login', { headers: { 'accept-language': 'it' } })
    ).text();
    expect(login).toContain('<label for="username">Nome utente</label>');
    expect(login).toContain('<button type="submit">Accedi</button>');
  });

  it('stores an admin’s choice in the directory (write seam, audit log) and uses it on every page', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('alice');
    let page = await b.get('/me');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('action="/language"');
    const res = await b.post('/language', { lang: 'it', back: '/me' });
    expect(res.status).toBe(303);
    expect(location(res)).toBe('/me');
    expect(res.headers.get('set-cookie')).toMatch(/delegato_lang=it/);
    expect(await w.directory.adminLanguage('alice')).toBe('it');
    page = await b.get('/d/a.example/mailboxes');
    expect(page.text).toContain('<html lang="it">');
    expect(page.text).toContain('Caselle locali');
    const audit = await w.directory.listAudit(operator, { limit: 50 });
    expect(audit.some((r) => r.action === 'admin.language' && r.target === 'alice')).toBe(true);
    // Another admin is not affected; and a foreign "back" is not followed.
    expect(await w.directory.adminLanguage('bob')).toBeNull();
    const evil = await b.post('/language', { lang: 'en', back: '//evil.example/' });
    expect(location(evil)).toBe('/');
  });

  it('stores a mailbox user’s choice on their mailbox', async () => {
    w = await world();
    const b = w.browser();
    await b.signIn('rose.pinkcheeks@a.example');
    await b.get('/me');
    await b.post('/language', { lang: 'it', back: '/me' });
    const mb = await w.directory.resolveLogin('rose.pinkcheeks@a.example');
    expect(mb?.language).toBe('it');
    const page = await b.get('/me');
    expect(page.text).toContain('<html lang="it">');
  });
});

describe('help pages', () => {
  it('are in Italian where translated, in English otherwise, and list the import topic', async () => {
    w = await world();
    const it1 = await w.app.request('https://admin.test/help/mailboxes', {
      headers: { 'accept-language': 'it' },
    });
    const text = await it1.text();
    expect(text).toContain('<h1>Caselle locali</h1>');
    expect(text).toContain('Altri argomenti');
    expect(text).toContain('Importare ed esportare caselle');
    const en = await w.app.request('https://admin.test/help/import', {
      headers: { 'accept-language': 'en' },
    });
    expect(await en.text()).toContain('<h1>Importing and exporting mailboxes</h1>');
  });
});
