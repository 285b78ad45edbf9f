/**
 * Fills Delegato's maildrop without SMTP, while no appliance runs on the data dir:
 *
 *   node --import tsx bench/pop3/fill.ts <data dir> <login> <count>
 *
 * Looks the mailbox up in the directory (its id is the mail store's user id), then delivers the
 * benchmark's messages (messages.ts: the same bytes Dovecot gets) straight into the mail store's INBOX,
 * up to CONCURRENCY at a time (the store group-commits them). Prints one JSON line: the id, the count,
 * the octets and the time taken.
 */
import { Readable } from 'node:stream';
import { MailStore } from '@delegato/mailstore';
import { loadConfig } from '../../appliance/src/config/load.js';
import { openDirectory } from '../../appliance/src/open-directory.js';
import { buildMessage } from './messages.js';

const CONCURRENCY = 50;

const [dataDir, login, countArg] = process.argv.slice(2);
if (!dataDir || !login || !countArg) {
  console.error('usage: fill.ts <data dir> <login> <count>');
  process.exit(2);
}
const count = Number(countArg);

const directory = await openDirectory(
  loadConfig({ env: { DELEGATO_DATA_DIR: dataDir }, cwd: process.cwd() }),
);
let id: string;
try {
  const mailbox = await directory.resolveLogin(login);
  if (!mailbox) throw new Error(`no mailbox for ${login}`);
  id = mailbox.id;
} finally {
  await directory.close();
}

const started = performance.now();
const store = await MailStore.open({ dir: `${dataDir}/mailstore` });
let bytes = 0;
let delivered = 0;
try {
  await store.ensureUser(id);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const message = buildMessage(i);
      const r = await store.deliver({ users: [id], source: Readable.from([message]) });
      if (r.size !== message.length) throw new Error(`message ${i}: stored ${r.size} of ${message.length}`);
      bytes += r.size;
      delivered++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
} finally {
  await store.close();
}
console.log(JSON.stringify({ id, delivered, bytes, ms: Math.round(performance.now() - started) }));
