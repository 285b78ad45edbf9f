/**
 * The languages of the admin web interface and how one is chosen for a request. Adding a language: a
 * catalogue file beside en.ts (the compiler checks that it has every message), an entry in CATALOGUES
 * (index.ts) and one in LANGUAGES below.
 */

/** Every language the interface speaks, with its name in itself (what the language menu shows). */
export const LANGUAGES = { en: 'English', it: 'Italiano' } as const;

export type Lang = keyof typeof LANGUAGES;

export const DEFAULT_LANG: Lang = 'en';

/** The cookie remembering the choice of someone not signed in (the sign-in page, help). */
export const LANG_COOKIE = 'delegato_lang';

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && Object.hasOwn(LANGUAGES, value);
}

/**
 * The best language of an `Accept-Language` header (RFC 9110 §12.5.4): the highest `q` among the tags
 * whose primary subtag the interface speaks; null when none is.
 */
export function fromAcceptLanguage(header: string | undefined | null): Lang | null {
  if (!header) return null;
  let best: { lang: Lang; q: number } | null = null;
  for (const part of header.split(',').slice(0, 32)) {
    const [tag = '', ...params] = part.trim().split(';');
    const primary = tag.trim().toLowerCase().split('-')[0];
    if (!isLang(primary)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number.parseFloat(qParam.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) continue;
    if (!best || q > best.q) best = { lang: primary, q };
  }
  return best?.lang ?? null;
}

/**
 * The language of a request: the signed-in person's stored preference, else the cookie of an earlier
 * choice, else the browser's `Accept-Language`, else English.
 */
export function chooseLanguage(choice: {
  stored?: string | null | undefined;
  cookie?: string | null | undefined;
  acceptLanguage?: string | null | undefined;
}): Lang {
  if (isLang(choice.stored)) return choice.stored;
  if (isLang(choice.cookie)) return choice.cookie;
  return fromAcceptLanguage(choice.acceptLanguage) ?? DEFAULT_LANG;
}
