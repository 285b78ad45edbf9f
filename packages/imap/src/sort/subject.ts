/**
 * The base subject (RFC 5256 §2.1), for SORT SUBJECT and THREAD: encoded words decoded, whitespace
 * collapsed, trailing `(fwd)`, leading `Re:` / `Fw:` / `Fwd:` and `[blob]` prefixes and a `[fwd: ...]`
 * wrapper removed, repeatedly.
 */
import { decodeEncodedWords } from '../mime/decode.js';

export interface BaseSubject {
  subject: string;
  /** A reply or forward prefix or trailer was removed (RFC 5256 §2.1: "is a reply or forward"). */
  isReplyOrForward: boolean;
}

/** subj-trailer = "(fwd)" / WSP (RFC 5256 §5). */
const TRAILER = /(?:\(fwd\)|[ \t])$/i;
/** subj-blob = "[" *BLOBCHAR "]" *WSP */
const BLOB = /^\[[^[\]]*\][ \t]*/;
/** subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":" */
const REFWD = /^(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
/** Guards against pathological subjects: at most this many removal rounds. */
const MAX_ROUNDS = 1000;

export function baseSubject(raw: string): BaseSubject {
  // (1) decoded, whitespace runs as one space.
  let s = decodeEncodedWords(raw)
    .replace(/[\r\n]+/g, '')
    .replace(/[ \t]+/g, ' ');
  let isReplyOrForward = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // (2) trailing "(fwd)" and whitespace.
    for (;;) {
      const m = TRAILER.exec(s);
      if (!m) break;
      if (m[0] !== ' ' && m[0] !== '\t') isReplyOrForward = true;
      s = s.slice(0, s.length - m[0].length);
    }
    // (3)-(5) leading whitespace, subj-refwd and subj-blob (a blob only when something remains after it).
    for (;;) {
      const before = s;
      s = s.replace(/^[ \t]+/, '');
      const r = REFWD.exec(s);
      if (r) {
        s = s.slice(r[0].length);
        isReplyOrForward = true;
      }
      const b = BLOB.exec(s);
      if (b && b[0].length < s.length) s = s.slice(b[0].length);
      if (s === before) break;
    }
    // (6) "[fwd:" ... "]" wraps the whole subject.
    if (/^\[fwd:/i.test(s) && s.endsWith(']')) {
      s = s.slice(5, -1);
      isReplyOrForward = true;
      continue;
    }
    break;
  }
  return { subject: s, isReplyOrForward };
}
