/**
 * Folder names: hierarchy delimiter '/', INBOX case-insensitive (always stored as `INBOX`, also as the first
 * component of its inferiors: `inbox/x` is `INBOX/x`).
 */
import { FOLDER_DELIMITER, StoreError } from './backend.js';

/** Longest folder name accepted, in UTF-16 code units. */
export const MAX_FOLDER_NAME_LENGTH = 1024;

// C0 and C1 controls and DEL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The stored form of a folder name: `INBOX` (any case) as the first component becomes `INBOX`. No validation. */
export function canonicalFolderName(name: string): string {
  if (name.length >= 5 && name.slice(0, 5).toUpperCase() === 'INBOX') {
    if (name.length === 5) return 'INBOX';
    if (name[5] === FOLDER_DELIMITER) return `INBOX${name.slice(5)}`;
  }
  return name;
}

/**
 * Checks a name for a folder to be created (or a rename target) and returns its canonical form. Rejects
 * (StoreError 'invalid-name') empty names, control characters, a leading or trailing delimiter, an empty
 * hierarchy level (`a//b`), the LIST wildcards `*` and `%`, and names longer than {@link MAX_FOLDER_NAME_LENGTH}.
 */
export function validateFolderName(name: string): string {
  const bad = (why: string): never => {
    throw new StoreError('invalid-name', `invalid folder name ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) bad('empty');
  if (name.length > MAX_FOLDER_NAME_LENGTH) bad('too long');
  if (CONTROL.test(name)) bad('control character');
  if (name.startsWith(FOLDER_DELIMITER) || name.endsWith(FOLDER_DELIMITER))
    bad('leading or trailing delimiter');
  if (name.includes(FOLDER_DELIMITER + FOLDER_DELIMITER)) bad('empty hierarchy level');
  if (name.includes('*') || name.includes('%')) bad('wildcard character');
  return canonicalFolderName(name);
}
