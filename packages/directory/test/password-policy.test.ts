/** The password policy (issue 19): length, the shipped common-password list, the owner's names and address. */
import { afterEach, describe, expect, it } from 'vitest';
import { checkPasswordFor, type Directory, isCommonPassword } from '../src/index.js';
import { operator, tempDirectory } from './helpers.js';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

describe('the password policy', () => {
  it('knows the common passwords, whatever the case or digits added at the end', () => {
    for (const p of ['password', 'Password123', 'QWERTYUIOP', 'iloveyou!!', 'juventus1897', 'Summer2025'])
      expect(isCommonPassword(p), p).toBe(true);
    for (const p of ['correct horse battery', 'Garden-First-Pass-1', 'x7Kq-2mP'])
      expect(isCommonPassword(p), p).toBe(false);
  });

  it('refuses a password holding the owner’s name, username or address, saying which', () => {
    const owner = { names: ['Rose', 'Pinkcheeks', 'rpink'], address: 'rose.pinkcheeks@iat.example' };
    expect(() => checkPasswordFor('Rose-Secret-1', owner)).toThrow(
      /must not contain the name, username or address \("rose"\)/,
    );
    expect(() => checkPasswordFor('my pinkcheeks!', owner)).toThrow(/"pinkcheeks"/);
    expect(() => checkPasswordFor('Sunshine', owner)).toThrow(/one of the most common passwords/);
    expect(() => checkPasswordFor('Garden-Gate-42', owner)).not.toThrow();
    // Words shorter than 4 letters are no rule: "Al" may well be in anything.
    expect(() => checkPasswordFor('Always-Blue-7', { names: ['Al', 'Bo'] })).not.toThrow();
  });

  it('is applied by the directory to every stored password, mailboxes and admins', async () => {
    let dir: Directory;
    ({ dir, cleanup } = await tempDirectory());
    await dir.addDomain(operator, 'a.example');
    await expect(
      dir.addMailbox(operator, {
        domain: 'a.example',
        kind: 'role',
        localPart: 'desk',
        password: 'Password1!',
      }),
    ).rejects.toThrow(/most common passwords/);
    await dir.addMailbox(operator, {
      domain: 'a.example',
      kind: 'role',
      localPart: 'desk',
      password: 'Blue-Desk-Lamp-9',
    });
    await expect(dir.setPassword(operator, 'desk@a.example', 'qwerty123')).rejects.toMatchObject({
      code: 'invalid',
    });
    await expect(
      dir.addAdmin(operator, { username: 'ops', role: 'operator', password: 'administrator' }),
    ).rejects.toThrow(/most common passwords/);
    await expect(
      dir.addAdmin(operator, { username: 'ops', role: 'operator', password: 'short' }),
    ).rejects.toThrow(/too short/);
  });
});
