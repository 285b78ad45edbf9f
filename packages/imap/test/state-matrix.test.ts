/**
 * Every command in every state (RFC 9051 §3, §6): not authenticated, authenticated, selected. Each cell
 * runs on a fresh connection and checks OK / NO / BAD.
 */

import { ALICE } from '@delegato/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ImapClient, message, startHarness } from './helpers.js';

type State = 'not-authenticated' | 'authenticated' | 'selected';
type Outcome = 'OK' | 'NO' | 'BAD';

const PLAIN_IR = Buffer.from(`\0${ALICE.login}\0${ALICE.password}`).toString('base64');
const MSG = 'Subject: m\r\n\r\nx\r\n';

/** command → expected outcome in [not authenticated, authenticated, selected]. */
const MATRIX: Array<[string, [Outcome, Outcome, Outcome]]> = [
  ['CAPABILITY', ['OK', 'OK', 'OK']],
  ['NOOP', ['OK', 'OK', 'OK']],
  ['ID NIL', ['OK', 'OK', 'OK']],
  ['LOGOUT', ['OK', 'OK', 'OK']],
  ['STARTTLS', ['OK', 'BAD', 'BAD']],
  [`LOGIN ${ALICE.login} "${ALICE.password}"`, ['OK', 'BAD', 'BAD']],
  ['LOGIN alice wrong', ['NO', 'BAD', 'BAD']],
  [`AUTHENTICATE PLAIN ${PLAIN_IR}`, ['OK', 'BAD', 'BAD']],
  ['ENABLE CONDSTORE', ['BAD', 'OK', 'BAD']],
  ['SELECT INBOX', ['BAD', 'OK', 'OK']],
  ['SELECT Nope', ['BAD', 'NO', 'NO']],
  ['EXAMINE INBOX', ['BAD', 'OK', 'OK']],
  ['CREATE Matrix', ['BAD', 'OK', 'OK']],
  ['CREATE INBOX', ['BAD', 'NO', 'NO']],
  ['DELETE Trash', ['BAD', 'OK', 'OK']],
  ['DELETE Nope', ['BAD', 'NO', 'NO']],
  ['RENAME Junk Spam', ['BAD', 'OK', 'OK']],
  ['SUBSCRIBE Sent', ['BAD', 'OK', 'OK']],
  ['UNSUBSCRIBE Sent', ['BAD', 'OK', 'OK']],
  ['LIST "" *', ['BAD', 'OK', 'OK']],
  ['LSUB "" *', ['BAD', 'OK', 'OK']],
  ['NAMESPACE', ['BAD', 'OK', 'OK']],
  ['STATUS INBOX (MESSAGES)', ['BAD', 'OK', 'OK']],
  [`APPEND INBOX {${MSG.length}+}\r\n${MSG}`, ['BAD', 'OK', 'OK']],
  ['GETQUOTAROOT INBOX', ['BAD', 'OK', 'OK']],
  ['GETQUOTA ""', ['BAD', 'NO', 'NO']],
  ['IDLE', ['BAD', 'OK', 'OK']],
  ['CHECK', ['BAD', 'BAD', 'OK']],
  ['CLOSE', ['BAD', 'BAD', 'OK']],
  ['UNSELECT', ['BAD', 'BAD', 'OK']],
  ['EXPUNGE', ['BAD', 'BAD', 'OK']],
  ['UID EXPUNGE 1:*', ['BAD', 'BAD', 'OK']],
  ['SEARCH ALL', ['BAD', 'BAD', 'OK']],
  ['UID SEARCH ALL', ['BAD', 'BAD', 'OK']],
  ['FETCH 1 FLAGS', ['BAD', 'BAD', 'OK']],
  ['FETCH 99 FLAGS', ['BAD', 'BAD', 'BAD']],
  ['UID FETCH 1:* FLAGS', ['BAD', 'BAD', 'OK']],
  ['STORE 1 +FLAGS (\\Seen)', ['BAD', 'BAD', 'OK']],
  ['UID STORE 1 +FLAGS (\\Seen)', ['BAD', 'BAD', 'OK']],
  ['COPY 1 Sent', ['BAD', 'BAD', 'OK']],
  ['UID COPY 1 Sent', ['BAD', 'BAD', 'OK']],
  ['COPY 1 Nope', ['BAD', 'BAD', 'NO']],
  ['MOVE 1 Sent', ['BAD', 'BAD', 'OK']],
  ['UID MOVE 1 Sent', ['BAD', 'BAD', 'OK']],
  ['UID BOGUS 1', ['BAD', 'BAD', 'BAD']],
  ['UID', ['BAD', 'BAD', 'BAD']],
  ['XYZZY', ['BAD', 'BAD', 'BAD']],
  ['FETCH', ['BAD', 'BAD', 'BAD']],
  ['SETQUOTA "" (STORAGE 1)', ['BAD', 'NO', 'NO']],
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.deliver(ALICE, message('matrix'));
});

afterAll(async () => {
  await h.cleanup();
  expect(h.problems).toEqual([]);
});

async function inState(state: State): Promise<ImapClient> {
  const c = await ImapClient.connect(h.port);
  if (state === 'not-authenticated') return c;
  await c.login();
  if (state === 'selected') expect((await c.cmd('SELECT INBOX')).tagged).toMatch(/OK/);
  return c;
}

describe('command × state', () => {
  const states: State[] = ['not-authenticated', 'authenticated', 'selected'];
  for (const [line, expected] of MATRIX) {
    states.forEach((state, i) => {
      const outcome = expected[i] as Outcome;
      it(`${JSON.stringify(line.split('\r\n')[0])} in ${state} → ${outcome}`, async () => {
        // Each cell starts from the same store: recreate what cells may delete or rename.
        for (const f of ['Trash', 'Junk']) await h.store.createFolder(ALICE.id, f).catch(() => undefined);
        await h.store.deleteFolder(ALICE.id, 'Spam').catch(() => undefined);
        await h.store.deleteFolder(ALICE.id, 'Matrix').catch(() => undefined);
        if ((await h.store.folderInfo(ALICE.id, 'INBOX')).exists === 0)
          await h.deliver(ALICE, message('refill'));
        const c = await inState(state);
        const tag = 'M1';
        c.raw.write(`${tag} ${line}\r\n`);
        if (line === 'IDLE' && outcome === 'OK') {
          // IDLE answers "+ idling" first; DONE ends it.
          expect(await c.response()).toBe('+ idling');
          c.raw.write('DONE\r\n');
        }
        const reply = await c.until(tag);
        expect(reply.tagged.slice(tag.length + 1, tag.length + 1 + outcome.length)).toBe(outcome);
        c.close();
      });
    });
  }
});
