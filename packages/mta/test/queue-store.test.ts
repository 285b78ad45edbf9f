/** The outbound queue store: delivery state, removal, operator tools, the delivery log, schema upgrade. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '@delegato/testkit';
import { createClient } from '@libsql/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { headerMessageId, OutboundQueue } from '../src/queue/outbound-queue.js';
import { Clock, enqueue, remote } from './queue-helpers.js';

let dir: { path: string; remove: () => void };
let clock: Clock;
let queue: OutboundQueue;

beforeEach(async () => {
  dir = tempDir('delegato-queue-store-');
  clock = new Clock();
  queue = await OutboundQueue.open({ dir: dir.path, now: clock.now });
});

afterEach(async () => {
  await queue.close();
  dir.remove();
});

const ids = (m: { recipients: Array<{ id?: number }> } | undefined) =>
  (m?.recipients ?? []).map((r) => r.id ?? -1);

describe('enqueue and the delivery log', () => {
  it('stores the Message-ID (from the spool file unless given) and logs `received` per recipient', async () => {
    const id = await enqueue(queue, {
      messageId: '<m1@origin.example>',
      recipients: [
        remote('t@remote.example', { orcpt: 'rfc822;alias@ours.example' }),
        remote('u@remote.example'),
      ],
    });
    const [m] = await queue.list();
    expect(m).toMatchObject({
      id,
      messageId: '<m1@origin.example>',
      spoolFile: id,
      sender: 'alice@origin.example',
    });
    expect(m?.recipients.map((r) => [r.address, r.state, r.attempts, r.outcomePending])).toEqual([
      ['t@remote.example', 'queued', 0, false],
      ['u@remote.example', 'queued', 0, false],
    ]);
    for (const q of ['<m1@origin.example>', 'm1@origin.example', id])
      expect((await queue.trace(q)).map((e) => [e.event, e.recipient])).toEqual([
        ['received', 't@remote.example'],
        ['received', 'u@remote.example'],
      ]);
    // By the original recipient (the alias), by the sender.
    expect((await queue.trace('ALIAS@ours.example')).map((e) => e.recipient)).toEqual(['t@remote.example']);
    expect(await queue.trace('alice@origin.example')).toHaveLength(2);
    expect(await queue.trace('nobody@nowhere.example')).toEqual([]);

    const spooled = await queue.spool(
      (await import('node:stream')).Readable.from([Buffer.from('Subject: x\r\n\r\n')]),
    );
    await queue.enqueue({
      ...spooled,
      sender: '',
      messageId: null,
      recipients: [remote('v@remote.example')],
    });
    expect((await queue.get(spooled.file))?.messageId).toBeNull();
  });

  it('headerMessageId unfolds and finds the header anywhere in the block', () => {
    expect(headerMessageId('Subject: a\r\nMessage-ID:\r\n <folded@x.example>\r\nTo: b')).toBe(
      '<folded@x.example>',
    );
    expect(headerMessageId('message-id: <lower@x.example>')).toBe('<lower@x.example>');
    expect(headerMessageId('Subject: none')).toBeNull();
  });

  it('logEvent adds events (the MX, the DSN generator); pruneLog removes old ones', async () => {
    const id = await enqueue(queue, { recipients: [remote('t@remote.example')] });
    clock.advance(1000);
    await queue.logEvent({
      messageId: id,
      event: 'dsn-sent',
      recipient: 't@remote.example',
      reply: 'failed',
    });
    expect((await queue.trace(id)).map((e) => e.event)).toEqual(['received', 'dsn-sent']);
    expect(await queue.pruneLog(new Date(clock.ms))).toBe(1);
    expect((await queue.trace(id)).map((e) => e.event)).toEqual(['dsn-sent']);
  });
});

describe('delivery state', () => {
  it('due, deferral, final states, removal after the last final state', async () => {
    const id = await enqueue(queue, { recipients: [remote('a@r.example'), remote('b@r.example')] });
    let [due] = await queue.due();
    expect(due?.recipients.map((r) => r.address)).toEqual(['a@r.example', 'b@r.example']);
    const [a, b] = ids(due);
    expect(await queue.due({ exclude: [a ?? 0, b ?? 0] })).toEqual([]);
    expect((await queue.due({ limit: 1 }))[0]?.recipients).toHaveLength(1);

    await queue.recordDeferral([a ?? 0], {
      reply: '451 4.4.1 no answer',
      nextAttemptAt: new Date(clock.ms + 60_000),
      remoteHost: 'mx.r.example',
    });
    [due] = await queue.due();
    expect(due?.recipients.map((r) => r.address)).toEqual(['b@r.example']);
    expect((await queue.nextDueAt())?.getTime()).toBe(clock.ms);

    await queue.markFinal([b ?? 0], {
      state: 'delivered',
      reply: '250 2.0.0 ok',
      remoteHost: 'mx.r.example',
    });
    expect(await queue.due()).toEqual([]);
    expect((await queue.nextDueAt())?.getTime()).toBe(clock.ms + 60_000);
    const m = await queue.get(id);
    expect(m?.recipients.map((r) => [r.state, r.attempts, r.lastReply, r.remoteHost])).toEqual([
      ['queued', 1, '451 4.4.1 no answer', 'mx.r.example'],
      ['delivered', 1, '250 2.0.0 ok', 'mx.r.example'],
    ]);
    // Final states are final.
    await queue.recordDeferral([b ?? 0], { reply: '451 again', nextAttemptAt: new Date(clock.ms) });
    expect((await queue.get(id))?.recipients[1]?.state).toBe('delivered');

    clock.advance(60_000);
    [due] = await queue.due();
    expect(ids(due)).toEqual([a]);
    await queue.markFinal([a ?? 0], { state: 'bounced', reply: '550 5.1.1 no such user' });
    expect(await queue.list()).toEqual([]);
    expect(readdirSync(join(dir.path, 'spool'))).toEqual([]);
    expect(await queue.nextDueAt()).toBeNull();
    expect((await queue.trace(id)).map((e) => `${e.event} ${e.recipient}`)).toEqual([
      'received a@r.example',
      'received b@r.example',
      'deferred a@r.example',
      'delivered b@r.example',
      'bounced a@r.example',
    ]);
  });

  it('keeps a message whose outcomes are pending until outcomeDone', async () => {
    const id = await enqueue(queue, { recipients: [remote('a@r.example')] });
    const [due] = await queue.due();
    await queue.markFinal(ids(due), { state: 'relayed', reply: '250 ok', outcomePending: true });
    const pending = await queue.pendingOutcomes();
    expect(pending.map((m) => [m.id, m.recipients.map((r) => r.state)])).toEqual([[id, ['relayed']]]);
    expect(existsSync(queue.spoolPath(id))).toBe(true);
    await queue.outcomeDone(ids(due));
    expect(await queue.list()).toEqual([]);
    expect(existsSync(queue.spoolPath(id))).toBe(false);
  });

  it('records a delay notice once', async () => {
    const id = await enqueue(queue, { recipients: [remote('a@r.example')] });
    const [due] = await queue.due();
    await queue.markDelayNotified(ids(due));
    expect((await queue.get(id))?.recipients[0]?.delayNotifiedAt).toBe(clock.now().toISOString());
  });
});

describe('operator tools', () => {
  it('show: message, recipients, headers, log', async () => {
    const id = await enqueue(queue, { recipients: [remote('a@r.example')], messageId: '<show@o.example>' });
    const shown = await queue.show(id);
    expect(shown).toMatchObject({ id, messageId: '<show@o.example>', sender: 'alice@origin.example' });
    expect(shown?.headers).toContain('Subject: queue test');
    expect(shown?.headers).not.toContain('Hello.');
    expect(shown?.log.map((e) => e.event)).toEqual(['received']);
    expect(await queue.show('nope')).toBeNull();
  });

  it('retry makes queued recipients due now; delete removes rows and spool file', async () => {
    const id = await enqueue(queue, { recipients: [remote('a@r.example'), remote('b@r.example')] });
    const [due] = await queue.due();
    await queue.recordDeferral(ids(due), {
      reply: '451 later',
      nextAttemptAt: new Date(clock.ms + 3_600_000),
    });
    expect(await queue.due()).toEqual([]);
    expect(await queue.retry(id)).toBe(2);
    expect((await queue.due())[0]?.recipients).toHaveLength(2);
    expect(await queue.retry('nope')).toBe(0);

    expect(await queue.delete(id)).toBe(true);
    expect(await queue.list()).toEqual([]);
    expect(existsSync(queue.spoolPath(id))).toBe(false);
    expect((await queue.trace(id)).map((e) => e.event)).toEqual([
      'received',
      'received',
      'deferred',
      'deferred',
      'deleted',
      'deleted',
    ]);
  });
});

describe('schema', () => {
  it('upgrades a queue.db made by the first schema in place, and keeps its messages', async () => {
    await queue.close();
    const old = tempDir('delegato-queue-old-');
    try {
      const client = createClient({ url: `file:${join(old.path, 'queue.db')}` });
      await client.execute(`CREATE TABLE queue_messages (
        id TEXT PRIMARY KEY, sender TEXT NOT NULL, envid TEXT, ret TEXT, require_tls INTEGER NOT NULL,
        size INTEGER NOT NULL, spool_file TEXT NOT NULL, created_at TEXT NOT NULL)`);
      await client.execute(`CREATE TABLE queue_recipients (
        id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, address TEXT NOT NULL, route TEXT NOT NULL,
        region TEXT, orcpt TEXT, notify TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL, last_reply TEXT)`);
      await client.execute(
        "INSERT INTO queue_messages VALUES ('OLD1', 's@o.example', NULL, NULL, 0, 3, 'OLD1', '2030-01-01T00:00:00.000Z')",
      );
      await client.execute(
        "INSERT INTO queue_recipients (message_id, address, route, state, next_attempt_at) VALUES ('OLD1', 'r@x.example', 'remote', 'queued', '2030-01-01T00:00:00.000Z')",
      );
      client.close();
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(old.path, 'spool'));
      writeFileSync(join(old.path, 'spool', 'OLD1'), 'x\r\n');

      queue = await OutboundQueue.open({ dir: old.path, now: clock.now });
      const [m] = await queue.list();
      expect(m).toMatchObject({ id: 'OLD1', messageId: null, spoolFile: 'OLD1' });
      expect(m?.recipients[0]).toMatchObject({
        state: 'queued',
        outcomePending: false,
        delayNotifiedAt: null,
      });
      const [due] = await queue.due();
      await queue.markFinal(ids(due), { state: 'delivered', reply: '250 ok' });
      expect(await queue.list()).toEqual([]);
      expect((await queue.trace('OLD1')).map((e) => e.event)).toEqual(['delivered']);
      await queue.close();
      // Opening again is a no-op.
      queue = await OutboundQueue.open({ dir: old.path, now: clock.now });
    } finally {
      await queue.close();
      queue = await OutboundQueue.open({ dir: dir.path, now: clock.now });
      old.remove();
    }
  });
});
