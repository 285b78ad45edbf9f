/**
 * What the message-authentication tests share (issue 18): the DNS records of a hosted domain's DKIM keys,
 * an SMTP client for the MX and submission listeners, reading a folder, and Debian's `dkimverify`
 * (python3-dkim) pointed at the loopback DNS server: dkimpy resolves through dnspython's default
 * resolver, which the wrapper replaces with one that asks 127.0.0.1:<port> only; the verification is
 * dkimpy's own `dkimverify` main.
 */
import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { LineClient } from '@delegato/testkit';
import type { RunningAppliance } from '../src/appliance.js';
import { TEST_OPERATOR } from './appliance-support.js';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `<selector>._domainkey.<domain>` → TXT of every key of `domain` that is not retired. */
export async function dkimRecords(app: RunningAppliance, domain: string): Promise<Record<string, string>> {
  const keys = await app.directory.listDkimKeys(TEST_OPERATOR, domain);
  return Object.fromEntries(keys.filter((k) => k.state !== 'retired').map((k) => [k.dnsName, k.txt]));
}

export function listenerPort(app: RunningAppliance, name: string): number {
  return app.listeners.find((l) => l.name === name)?.port ?? 0;
}

/**
 * One SMTP transaction; returns the reply to the message's end of data (or the first refusal). `auth`:
 * STARTTLS and AUTH PLAIN first (the submission listener).
 */
export async function smtpSend(
  port: number,
  opts: { from: string; to: string[]; data: string; auth?: { user: string; password: string } },
): Promise<{ code: number; text: string }> {
  const c = await LineClient.connect(port);
  try {
    await c.smtpReply();
    await c.smtp('EHLO client.example');
    if (opts.auth) {
      await c.smtp('STARTTLS');
      await c.startTls();
      await c.smtp('EHLO client.example');
      const token = Buffer.from(`\0${opts.auth.user}\0${opts.auth.password}`).toString('base64');
      const a = await c.smtp(`AUTH PLAIN ${token}`);
      if (a.code !== 235) return a;
    }
    const m = await c.smtp(`MAIL FROM:<${opts.from}>`);
    if (m.code !== 250) return m;
    for (const to of opts.to) {
      const r = await c.smtp(`RCPT TO:<${to}>`);
      if (r.code !== 250) return r;
    }
    const d = await c.smtp('DATA');
    if (d.code !== 354) return d;
    const body = opts.data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    return await c.smtp(`${body.endsWith('\r\n') ? body : `${body}\r\n`}.`);
  } finally {
    c.close();
  }
}

/** The messages of a folder, oldest first. */
export async function folderMessages(
  app: RunningAppliance,
  userId: string,
  folder: string,
): Promise<string[]> {
  const snap = await app.store.snapshot(userId, folder);
  const out: string[] = [];
  for (const m of snap.messages)
    out.push((await readAll(await app.store.openMessage(userId, folder, m.uid))).toString());
  return out;
}

/** Debian's dkimverify (dkimpy) on `message`, signature `index`, keys from the DNS server at `dnsPort`. */
export function dkimverify(
  message: Buffer,
  index: number,
  dnsPort: number,
): Promise<{ code: number; out: string }> {
  const script = [
    'import sys, dns.resolver',
    'r = dns.resolver.Resolver(configure=False)',
    "r.nameservers = ['127.0.0.1']",
    `r.port = ${dnsPort}`,
    'dns.resolver.default_resolver = r',
    'from dkim.dkimverify import main',
    "sys.argv = ['dkimverify'] + sys.argv[1:]",
    'main()',
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile(
      '/usr/bin/python3',
      ['-c', script, '--index', String(index)],
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
    child.stdin?.end(message);
  });
}

/** Polls `probe` until it gives a value (or throws after `ms`). */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
