/** The local parts generated for a person: official `first.last`, aliases `f.last` and `last`. */
import { validateLocalPart } from './address.js';
import { AddressingError, initialOf, nameToken } from './names.js';

export interface PersonalLocalParts {
  /** `first.last`: the mailbox's own address, never ambiguous. */
  official: string;
  /** `f.last` then `last`, without duplicates and without the official local part. */
  aliases: string[];
}

/**
 * @throws AddressingError('empty-name') when a name has no usable letters, or
 *   AddressingError('invalid-local-part') when `first.last` is longer than 64 octets
 *   (RFC 5321 §4.5.3.1.1); in both cases the admin must give the address explicitly.
 */
export function personalLocalParts(first: string, last: string): PersonalLocalParts {
  const firstToken = nameToken(first);
  const lastToken = nameToken(last);
  const official = `${firstToken}.${lastToken}`;
  try {
    validateLocalPart(official);
  } catch (error) {
    if (!(error instanceof AddressingError)) throw error;
    throw new AddressingError(
      'invalid-local-part',
      `${error.message} Give the address explicitly with an address override (--address).`,
      { cause: error },
    );
  }
  const aliases: string[] = [];
  // A one-letter first name makes `f.last` equal to `first.last`: keep only the official one.
  for (const alias of [`${initialOf(firstToken)}.${lastToken}`, lastToken]) {
    if (alias !== official && !aliases.includes(alias)) aliases.push(alias);
  }
  return { official, aliases };
}
