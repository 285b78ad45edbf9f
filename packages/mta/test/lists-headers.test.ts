/** The header helpers of built-in lists (src/lists/headers.ts, rules.ts): pure functions. */
import { describe, expect, it } from 'vitest';
import {
  addressIn,
  controlAddress,
  decodeWords,
  encodeWord,
  listHeaders,
  loopsThrough,
} from '../src/lists/headers.js';
import type { MailingList } from '../src/lists/ports.js';
import { listId, refusalFor } from '../src/lists/rules.js';

const list: MailingList = {
  address: 'staff@iat.example',
  domain: 'iat.example',
  owner: 'rose@iat.example',
  senders: 'members',
  allowedSenders: [],
  moderated: false,
  members: ['mario@iat.example', 'ext@remote.example'],
};

describe('list headers', () => {
  it('RFC 2919 List-Id and RFC 2369 fields, X-Loop, the control addresses', () => {
    expect(listId(list)).toBe('staff.iat.example');
    expect(controlAddress(list, 'bounces')).toBe('staff-bounces@iat.example');
    expect(controlAddress(list, 'request')).toBe('staff-request@iat.example');
    const h = listHeaders(list);
    expect(h.split('\r\n')).toEqual([
      'List-Id: <staff.iat.example>',
      'List-Post: <mailto:staff@iat.example>',
      'List-Owner: <mailto:rose@iat.example>',
      'List-Unsubscribe: <mailto:rose@iat.example?subject=unsubscribe%20staff@iat.example>',
      'Precedence: list',
      'X-Loop: staff@iat.example',
      '',
    ]);
  });

  it('recognises its own loops by X-Loop or List-Id, and no other list', () => {
    expect(loopsThrough([['x-loop', 'Staff@IAT.example']], list)).toBe(true);
    expect(loopsThrough([['list-id', 'Staff list <staff.iat.example>']], list)).toBe(true);
    expect(loopsThrough([['list-id', '<other.iat.example>']], list)).toBe(false);
    expect(loopsThrough([['subject', 'staff@iat.example']], list)).toBe(false);
  });

  it('reads the address of a From: value', () => {
    expect(addressIn('Mario Rossi <Mario@IAT.example>')).toBe('mario@iat.example');
    expect(addressIn('mario@iat.example (Mario)')).toBe('mario@iat.example');
    expect(addressIn('"a, b" <x@y.example>')).toBe('x@y.example');
    expect(addressIn(undefined)).toBe('');
  });

  it('encodes non-ASCII subjects in words of at most 75 characters, and decodes them', () => {
    expect(encodeWord('plain')).toBe('plain');
    const s = 'Riunione spostata a giovedì — ordine del giorno e verbale della scorsa settimana, €';
    const e = encodeWord(s);
    for (const w of e.split('\r\n ')) expect(w.length).toBeLessThanOrEqual(75);
    expect(decodeWords(e.replace(/\r\n /g, ' '))).toBe(s);
    expect(decodeWords('=?ISO-8859-1?Q?caf=E9_cr=E8me?=')).toBe('café crème');
  });
});

describe('who may post', () => {
  it('members, domain, anyone, listed; the owner always; the null sender never', () => {
    expect(refusalFor(list, 'mario@iat.example')).toBeNull();
    expect(refusalFor(list, 'Rose@iat.example')).toBeNull();
    expect(refusalFor(list, 'anna@iat.example')).toBe('only members may post to staff@iat.example');
    expect(refusalFor(list, '')).toMatch(/null sender/);
    expect(refusalFor({ ...list, senders: 'domain' }, 'anna@iat.example')).toBeNull();
    expect(refusalFor({ ...list, senders: 'domain' }, 'ext@remote.example')).toMatch(/only senders of iat/);
    expect(refusalFor({ ...list, senders: 'anyone' }, 'x@anywhere.example')).toBeNull();
    const listed = { ...list, senders: 'listed' as const, allowedSenders: ['boss@remote.example'] };
    expect(refusalFor(listed, 'boss@remote.example')).toBeNull();
    expect(refusalFor(listed, 'mario@iat.example')).toMatch(/may not post/);
  });
});
