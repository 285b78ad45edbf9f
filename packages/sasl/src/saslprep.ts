/**
 * SASLprep (RFC 4013, a profile of stringprep, RFC 3454) for user names, as SCRAM requires (RFC 5802 §2.2).
 *
 * Implemented: mapping (§2.1: non-ASCII spaces to SPACE, "commonly mapped to nothing" removed),
 * normalisation (NFKC) and the prohibited output (§2.3: tables C.1.2 and C.2.1 through C.9).
 * Not implemented: the bidirectional check (§2.5, needs Unicode Bidi_Class data JavaScript does not
 * expose) and the unassigned code point check (stored strings only; SCRAM names are queries).
 */

/** stringprep B.1: commonly mapped to nothing. */
// biome-ignore lint/suspicious/noMisleadingCharacterClass: a set of single code points, combining marks included on purpose
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200b-\u200d\u2060\ufe00-\ufe0f\ufeff]/gu;
/** stringprep C.1.2: non-ASCII space characters. */
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/gu;

/** stringprep C.1.2 and C.2.1 to C.9 (C.4, non-characters, is checked separately). */
const PROHIBITED = new RegExp(
  [
    '[\\u00a0\\u1680\\u2000-\\u200b\\u202f\\u205f\\u3000]', // C.1.2 non-ASCII space
    '[\\u0000-\\u001f\\u007f]', // C.2.1 ASCII control
    '[\\u0080-\\u009f\\u06dd\\u070f\\u180e\\u200c\\u200d\\u2028\\u2029\\u2060-\\u2063\\u206a-\\u206f\\ufeff\\ufff9-\\ufffc\\u{1d173}-\\u{1d17a}]', // C.2.2
    '[\\ue000-\\uf8ff\\u{f0000}-\\u{ffffd}\\u{100000}-\\u{10fffd}]', // C.3 private use
    '\\p{Cs}', // C.5 surrogate code points (lone surrogates)
    '[\\ufff9-\\ufffd]', // C.6 inappropriate for plain text
    '[\\u2ff0-\\u2ffb]', // C.7 inappropriate for canonical representation
    '[\\u0340\\u0341\\u200e\\u200f\\u202a-\\u202e\\u206a-\\u206f]', // C.8 change display properties
    '[\\u{e0001}\\u{e0020}-\\u{e007f}]', // C.9 tagging characters
  ].join('|'),
  'u',
);

/** C.4: non-character code points (U+FDD0..U+FDEF and the last two of every plane). */
function hasNonCharacter(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return true;
  }
  return false;
}

/** The prepared string, or null when it contains prohibited characters or comes out empty. */
export function saslprep(input: string): string | null {
  const mapped = input.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  const normalized = mapped.normalize('NFKC');
  if (normalized.length === 0 || PROHIBITED.test(normalized) || hasNonCharacter(normalized)) return null;
  return normalized;
}
