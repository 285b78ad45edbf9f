/**
 * The admin UI's one message catalogue (docs/admin-guide.md, "Languages"). Every text a page shows comes
 * from here: `en.ts` is the reference (its keys are the message names), every other language a
 * `Record<MessageKey, string>` the compiler checks is complete.
 *
 * - Views (hono/jsx components) call `useT()` and get `t(key, params)`; the page's language is set once
 *   by `render()` (render.tsx) through `LangContext`.
 * - Route handlers (flash messages, page titles) call `tr(c)`: the request's language, chosen by the
 *   middleware in middleware.ts (stored preference, cookie, Accept-Language).
 * - Parameters: `{name}` in a message is replaced by `params.name` (escaped later by JSX, never raw HTML).
 */
import type { Context } from 'hono';
import { createContext, useContext } from 'hono/jsx';
import { en } from './en.js';
import { it } from './it.js';
import { DEFAULT_LANG, isLang, type Lang } from './languages.js';

export {
  chooseLanguage,
  DEFAULT_LANG,
  fromAcceptLanguage,
  isLang,
  LANG_COOKIE,
  LANGUAGES,
  type Lang,
} from './languages.js';

export type MessageKey = keyof typeof en;
export type Messages = Record<MessageKey, string>;
export type Params = Record<string, string | number>;
/** Translates one message into the page's language. */
export type T = (key: MessageKey, params?: Params) => string;

const CATALOGUES: Record<Lang, Messages> = { en, it };

function fill(text: string, params: Params | undefined): string {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

const translators = new Map<Lang, T>();

/** The translator of a language (English for a message a catalogue lacks at run time). */
export function translator(lang: Lang): T {
  let t = translators.get(lang);
  if (!t) {
    const messages = CATALOGUES[lang];
    t = (key, params) => fill(messages[key] ?? en[key] ?? key, params);
    translators.set(lang, t);
  }
  return t;
}

/** Whether a message name exists (for names built at run time, such as an audit action). */
export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** The language of the page being rendered (render.tsx provides it). */
export const LangContext = createContext<Lang>(DEFAULT_LANG);

/** In a view: the page's language. */
export function useLang(): Lang {
  return useContext(LangContext);
}

/** In a view: the translator of the page's language. */
export function useT(): T {
  return translator(useLang());
}

/** In a route handler: the request's language (set by the language middleware). */
export function langOf(c: Context): Lang {
  const lang: unknown = c.get('lang');
  return isLang(lang) ? lang : DEFAULT_LANG;
}

/** In a route handler: the translator of the request's language. */
export function tr(c: Context): T {
  return translator(langOf(c));
}
