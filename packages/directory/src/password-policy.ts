/**
 * The password policy for users and administrators (issue 19): long enough, not one of the common
 * passwords in data/common-passwords.txt (a short list shipped with the appliance: the ones people pick
 * first), and where a person chooses it (the admin UI's forms, self-service, `mailbox add` in the CLI: the
 * callers pass the owner) not containing their names, username or address (words of 4 letters or more).
 * The directory itself checks length and the common list for every password it stores. A refusal says which rule, so the person
 * knows what to change. The length and character rules of credentials.ts apply before these.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { invalid } from './errors.js';

/** The shipped list (the package's data/, whether this runs from src/ or dist/src/); read once. */
export const COMMON_PASSWORDS_FILE = join(
  dirname(createRequire(import.meta.url).resolve('@delegato/directory/package.json')),
  'data',
  'common-passwords.txt',
);

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(COMMON_PASSWORDS_FILE, 'utf8')
      .split('\n')
      .map((l) => l.trim().toLowerCase())
      .filter((l) => l && !l.startsWith('#')),
  );
  return common;
}

/** Whether a password is on the common list (ignoring case, and digits or punctuation added at its end). */
export function isCommonPassword(password: string): boolean {
  const p = password.toLowerCase();
  const list = commonPasswords();
  if (list.has(p)) return true;
  const stem = p.replace(/[\d\W_]+$/u, '');
  return stem.length >= 4 && stem !== p && list.has(stem);
}

/** Whose password it is: names, username, address (any may be absent). */
export interface PasswordOwner {
  names?: ReadonlyArray<string | null | undefined>;
  address?: string | null | undefined;
}

/** The parts of names and addresses a password must not contain: words of 4 letters or more. */
function personalWords(owner: PasswordOwner): string[] {
  const words = new Set<string>();
  const add = (text: string | null | undefined) => {
    for (const w of (text ?? '').toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (w.length >= 4) words.add(w);
  };
  for (const n of owner.names ?? []) add(n);
  if (owner.address) {
    const at = owner.address.lastIndexOf('@');
    add(at > 0 ? owner.address.slice(0, at) : owner.address);
  }
  return [...words];
}

/** Throws `invalid` with the reason when the password breaks the policy for this owner. */
export function checkPasswordFor(password: string, owner: PasswordOwner): void {
  const lower = password.toLowerCase();
  const word = personalWords(owner).find((w) => lower.includes(w));
  if (word) throw invalid(`the password must not contain the name, username or address ("${word}")`);
  if (isCommonPassword(password)) {
    throw invalid(
      'the password is one of the most common passwords, which are guessed first: choose another',
    );
  }
}
