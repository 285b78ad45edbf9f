/** Flag lists in commands (RFC 9051 §9 flag-list, store-att-flags). */
import { badCommand } from './errors.js';
import type { Arg } from './parser/types.js';

/** RFC 9051 §9 flag = "\Answered" / ... / flag-keyword / flag-extension; keywords are atoms. */
const FLAG = /^\\?[\x21\x23\x24\x26\x27\x2b-\x5b\x5e-\x7a\x7c-\x7e]+$/;

/** The flags of a list (or of a single atom, as STORE allows). The store validates them further. */
export function parseFlagList(args: readonly Arg[]): string[] {
  return args.map((a) => {
    if (a.kind !== 'atom' || !FLAG.test(a.value)) throw badCommand('Invalid flag');
    return a.value;
  });
}
