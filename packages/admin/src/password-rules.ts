/**
 * The personal rule of the password policy where a person chooses a password in the web UI (issue 19;
 * @delegato/directory's password-policy.ts): not their names, username or address. The directory checks
 * length and the common-password list for every password it stores.
 */
import { checkPasswordFor, DirectoryError, type PasswordOwner } from '@delegato/directory';

/** Why this password is refused for this person, or null when it is not. */
export function personalPasswordProblem(password: string, owner: PasswordOwner): string | null {
  try {
    checkPasswordFor(password, owner);
    return null;
  } catch (err) {
    if (err instanceof DirectoryError) return err.message;
    throw err;
  }
}
