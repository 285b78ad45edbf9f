/**
 * Turning a person's name into a local-part token (see docs/addressing.md for the full rules and
 * the table of examples, which the tests check against this code).
 */
import anyAscii from 'any-ascii';

/**
 * The error thrown by every function of the addressing policy. `code` is stable and meant for callers
 * (CLI, admin API) to branch on; `message` is written for the administrator who typed the input.
 */
export type AddressingErrorCode = 'empty-name' | 'invalid-domain' | 'invalid-local-part' | 'invalid-address';

export class AddressingError extends Error {
  override readonly name = 'AddressingError';

  constructor(
    readonly code: AddressingErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Characters that may reach the transliterator: letters, combining marks, digits, dashes and white
 * space. Everything else (apostrophes, dots, symbols, emoji, control, private-use and unassigned code
 * points) is removed first, so that e.g. an emoji does not become its any-ascii name (`:grinning:`).
 */
const NOT_NAME_CHARACTER = /[^\p{L}\p{M}\p{N}\p{Pd}\s]/gu;

/**
 * Turns one name (first or last) into a lower-case token made of [a-z0-9-]:
 *
 * 1. apostrophes and other punctuation except dashes are removed, joining the letters around them
 *    (`D'Amico` -> `damico`);
 * 2. the rest is transliterated to ASCII with any-ascii (`Nicolò` -> `nicolo`, `Łukasz` -> `lukasz`,
 *    `Сергей` -> `sergey`); German umlauts lose their dots (`Müller` -> `muller`, not `mueller`);
 * 3. white space is removed, joining the words of compound names and particles
 *    (`José María` -> `josemaria`, `De Luca` -> `deluca`, `van der Berg` -> `vanderberg`);
 * 4. dashes are kept as '-' (`Anne-Marie` -> `anne-marie`), runs of them collapse to one and leading
 *    or trailing ones are removed; any other character outside [a-z0-9-] is dropped.
 *
 * The token never contains a dot, so `first.last` is a valid RFC 5321 dot-atom with no empty atom.
 *
 * @throws AddressingError('empty-name') when nothing is left.
 */
export function nameToken(name: string): string {
  const ascii = anyAscii(name.normalize('NFC').replace(NOT_NAME_CHARACTER, ''));
  const token = ascii
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '') // also removes the white space between words
    .replace(/-{2,}/g, '-')
    .replace(/^-|-$/g, '');
  if (token === '') {
    throw new AddressingError(
      'empty-name',
      `The name ${JSON.stringify(name)} gives no usable letters for an e-mail address; ` +
        'give the address explicitly with an address override (--address).',
    );
  }
  return token;
}

/**
 * The initial used by the `f.last` alias: the first character of a token made by nameToken
 * (always a letter or digit, since tokens never start with '-').
 */
export function initialOf(firstToken: string): string {
  const initial = firstToken[0];
  if (initial === undefined || !/[a-z0-9]/.test(initial)) {
    throw new AddressingError('empty-name', `${JSON.stringify(firstToken)} is not a name token.`);
  }
  return initial;
}
