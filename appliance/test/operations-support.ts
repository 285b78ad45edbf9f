/** Helpers of the operations tests (statistics, metrics, backups, expiry): mail in and out. */
import { LineClient } from '@delegato/testkit';
import { expect } from 'vitest';

/** One message from outside over the MX listener; returns the DATA payload sent (its bytes count). */
export async function mxSend(port: number, from: string, to: string, body: string): Promise<string> {
  const c = await LineClient.connect(port);
  try {
    expect((await c.smtpReply()).code).toBe(220);
    expect((await c.smtp('EHLO client.example')).code).toBe(250);
    expect((await c.smtp(`MAIL FROM:<${from}>`)).code).toBe(250);
    const rcpt = await c.smtp(`RCPT TO:<${to}>`);
    expect(rcpt.code, rcpt.text).toBe(250);
    expect((await c.smtp('DATA')).code).toBe(354);
    const payload = `From: <${from}>\r\nTo: <${to}>\r\nSubject: test\r\n\r\n${body}\r\n`;
    const sent = await c.smtp(`${payload}.`);
    expect(sent.code, sent.text).toBe(250);
    await c.smtp('QUIT');
    return payload;
  } finally {
    c.close();
  }
}

/** A message submitted by `user` (STARTTLS, AUTH PLAIN) to `to`; returns the DATA payload. */
export async function submit(
  port: number,
  user: string,
  password: string,
  to: string[],
  body: string,
): Promise<string> {
  const c = await LineClient.connect(port);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    expect((await c.smtp('STARTTLS')).code).toBe(220);
    await c.startTls();
    await c.smtp('EHLO client.example');
    const token = Buffer.from(`\0${user}\0${password}`).toString('base64');
    expect((await c.smtp(`AUTH PLAIN ${token}`)).code).toBe(235);
    expect((await c.smtp(`MAIL FROM:<${user}>`)).code).toBe(250);
    for (const r of to) {
      const reply = await c.smtp(`RCPT TO:<${r}>`);
      expect(reply.code, reply.text).toBe(250);
    }
    expect((await c.smtp('DATA')).code).toBe(354);
    const payload = `From: <${user}>\r\nTo: <${to[0]}>\r\nSubject: out\r\n\r\n${body}\r\n`;
    const sent = await c.smtp(`${payload}.`);
    expect(sent.code, sent.text).toBe(250);
    await c.smtp('QUIT');
    return payload;
  } finally {
    c.close();
  }
}

/** RCPT TO for an address nobody has (the transaction abandoned): the reply. */
export async function refusedRcpt(port: number, to: string): Promise<{ code: number; text: string }> {
  const c = await LineClient.connect(port);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    await c.smtp('MAIL FROM:<someone@outside.example>');
    const r = await c.smtp(`RCPT TO:<${to}>`);
    await c.smtp('QUIT');
    return r;
  } finally {
    c.close();
  }
}

/** The subjects (and whole texts) in a mailbox's INBOX over IMAP (imapflow, STARTTLS); throws when login fails. */
export async function imapInbox(
  port: number,
  user: string,
  pass: string,
): Promise<Array<{ subject: string; source: string }>> {
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    auth: { user, pass },
    logger: false,
    tls: { rejectUnauthorized: false },
    disableAutoIdle: true,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const box = await client.mailboxOpen('INBOX');
    const out: Array<{ subject: string; source: string }> = [];
    if (box.exists === 0) return out;
    for await (const m of client.fetch('1:*', { envelope: true, source: true }))
      out.push({ subject: m.envelope?.subject ?? '', source: m.source?.toString('utf8') ?? '' });
    return out;
  } finally {
    await client.logout().catch(() => undefined);
  }
}
